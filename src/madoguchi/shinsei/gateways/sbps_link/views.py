"""SBPS's calls on Shinsei's public listener: the 購入結果通知 (server to
server) and the browser coming back from SBPS's payment page."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.sbps import link
from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.applications.services import NotificationRejected
from madoguchi.shinsei.procedures.models import Agency

from .services import sbps_result_receive

logger = logging.getLogger(__name__)


def _answer(*, accepted: bool) -> HttpResponse:
    return HttpResponse(
        link.notification_answer(accepted=accepted),
        content_type="text/plain; charset=Shift_JIS",
    )


@csrf_exempt  # authenticated by sps_hashcode instead
@require_POST
def pagecon(request: HttpRequest, agency_code: str) -> HttpResponse:
    """購入結果通知: answered ``OK,`` once recorded (also when resent), or
    ``NG,<reason>`` so that SBPS resends it."""
    agency = Agency.objects.filter(code=agency_code).first()
    if agency is None:
        logger.warning("SBPS result for unknown agency %s refused", agency_code[:40])
        return _answer(accepted=False)
    try:
        fields = link.parse_form(request.body)
        sbps_result_receive(agency=agency, fields=fields, source="pagecon")
    except (NotificationRejected, link.InvalidResult, UnicodeError) as exc:
        logger.warning("SBPS result for %s refused: %s", agency_code, exc)
        return _answer(accepted=False)
    return _answer(accepted=True)


@csrf_exempt  # SBPS's page posts the browser back; nothing here trusts it
@require_http_methods(["GET", "POST"])
def browser_return(request: HttpRequest, reference: str, outcome: str) -> HttpResponse:
    """The browser back from SBPS (success, cancel or error URL). A copy of
    the result whose hash verifies gives the tracking id to ask SBPS about;
    the status itself comes from SBPS (notification or inquiry)."""
    application = (
        Application.objects.select_related("procedure__department__agency")
        .filter(reference=reference, payment_gateway="sbps_link")
        .first()
    )
    if application is not None and request.method == "POST" and request.body:
        agency = get_object_or_404(Agency, pk=application.procedure.department.agency_id)
        try:
            sbps_result_receive(
                agency=agency, fields=link.parse_form(request.body), source="return"
            )
        except (NotificationRejected, link.InvalidResult, UnicodeError) as exc:
            logger.info("SBPS return for %s without a usable result: %s", reference, exc)
    # A GET of Shinsei's own return page, which asks SBPS (the browser's copy is
    # not trusted for the status) and checks that this browser may see it.
    return HttpResponseRedirect(reverse("shinsei:payment_return", args=[reference]), status=303)
