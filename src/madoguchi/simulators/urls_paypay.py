"""The PayPay simulator's own listener (a separate process under ``madoguchi up``)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from . import paypay


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("v2/codes", paypay.create_code),
    path("v2/codes/payments/<str:merchant_payment_id>", paypay.payment_details),
    path("v2/payments/<str:merchant_payment_id>", paypay.cancel_payment),
    path("v2/refunds", paypay.refunds),
    path("v2/refunds/<str:merchant_refund_id>", paypay.refund_details),
    path("app/codes/<str:code_id>", paypay.app),
    path("_sim/paypay/control", paypay.control),
    path("healthz", healthz),
]
