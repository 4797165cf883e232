from django.http import HttpRequest, HttpResponse
from django.urls import path

from . import acquirer, applepay


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("v1/authorizations", acquirer.authorize),
    path("v1/authorizations/<str:key>", acquirer.inquire),
    path("v1/authorizations/<str:key>/void", acquirer.void),
    path("v1/authorizations/<str:key>/refunds", acquirer.refund),
    path("v1/refunds/<str:key>", acquirer.refund_inquire),
    path("3ds/challenge/<str:auth_id>", acquirer.challenge),
    path("applepay/paymentservices/paymentSession", applepay.merchant_validation),
    path("applepay/sheet", applepay.payment_sheet),
    path("_sim/acquirer/faults", acquirer.faults),
    path("healthz", healthz),
]
