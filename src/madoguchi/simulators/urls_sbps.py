"""The SBPS simulator's own listener (a separate process under ``madoguchi up``)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from . import sbps


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("f01/FepBuyInfoReceive.do", sbps.purchase_request),
    path("f01/pay/<str:token>", sbps.payment_page),
    path("f01/pay/<str:token>/cancel", sbps.payment_cancel),
    path("api/xmlapi.do", sbps.xml_api),
    path("tds2/<str:authentication_id>", sbps.tds_page),
    path("_sim/sbps/control", sbps.control),
    path("_sim/sbps/resend", sbps.resend),
    path("_sim/sbps/books", sbps.books),
    path("_sim/sbps/reset", sbps.reset),
    path("healthz", healthz),
]
