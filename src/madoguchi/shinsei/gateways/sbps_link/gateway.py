"""SBPS's link type: the citizen's browser posts the purchase request to
SBPS's payment page; SBPS posts the result to ``pagecon_url`` server to
server and returns the browser to the success, cancel or error URL.

What leaves Shinsei: SBPS's merchant and service ids, the 整理番号 (as
``order_id`` and ``cust_code``), the amount, a neutral fixed ``item_id`` and
``item_name``, Shinsei's own return URLs and the hash. No name, no procedure."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP

from madoguchi.contract.schemas import PaymentStatus
from madoguchi.platform.conf import origin_of
from madoguchi.platform.http import transport
from madoguchi.sbps import api, link
from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.procedures.models import Agency

from ..base import GatewayPayment, GatewayUnavailable, PaymentGateway
from ..registry import agency_setting

logger = logging.getLogger(__name__)

ITEM_ID = "madoguchi-fee"
ITEM_NAME = "手数料"  # neutral and fixed: never the procedure's name

# SBPS's res_pay_method -> Shinsei's method codes.
METHODS = {
    link.PAY_METHOD_CARD: "card",
    link.PAY_METHOD_CARD_3DS: "card",
    link.PAY_METHOD_PAYPAY: "paypay",
    link.PAY_METHOD_APPLE_PAY: "apple_pay",
}
# 決済結果参照 (MG01-00101-101) is documented for credit card payments; the
# documents at hand name no inquiry for SBPS's PayPay or Apple Pay, whose
# results therefore come by notification (which SBPS resends until OK).
INQUIRABLE = {link.PAY_METHOD_CARD, link.PAY_METHOD_CARD_3DS}
# payment_status in an inquiry's answer, as in SBPS's recorded traffic:
# 1 after authorisation and sale, 3 after a refund.
INQUIRY_STATUS = {"1": PaymentStatus.SUCCEEDED, "3": PaymentStatus.REFUNDED}


def link_credentials(agency: Agency) -> link.LinkCredentials:
    return link.LinkCredentials(
        merchant_id=str(agency_setting(agency, "sbps_merchant_id")),
        service_id=str(agency_setting(agency, "sbps_service_id")),
        hash_key=str(agency_setting(agency, "sbps_hash_key")),
        hash_encoding=str(agency_setting(agency, "sbps_hash_encoding")),
    )


def shinsei_url(name: str, *args: str) -> str:
    return settings.SHINSEI_PUBLIC_URL.rstrip("/") + reverse(name, args=args)


class SbpsLinkGateway(PaymentGateway):
    code = "sbps_link"
    label = "SBペイメントサービス（リンク型）"

    def payment_create(self, *, application: Application) -> GatewayPayment:
        # Nothing to create at SBPS before the citizen comes: the purchase
        # request carries everything. The order_id is the 整理番号.
        return GatewayPayment(
            id=application.reference,
            reference=application.reference,
            status=PaymentStatus.CREATED,
        )

    def purchase_fields(self, *, application: Application) -> list[tuple[str, str]]:
        reference = application.reference
        return link.purchase_request(
            credentials=link_credentials(self.agency),
            pay_methods=settings.SHINSEI_SBPS_PAY_METHODS,
            cust_code=reference,
            order_id=reference,
            item_id=ITEM_ID,
            item_name=ITEM_NAME,
            amount=application.fee_amount,
            success_url=shinsei_url("shinsei:sbps_return", reference, "success"),
            cancel_url=shinsei_url("shinsei:sbps_return", reference, "cancel"),
            error_url=shinsei_url("shinsei:sbps_return", reference, "error"),
            pagecon_url=shinsei_url("shinsei:sbps_pagecon", self.agency.code),
            requested_at=timezone.now(),
        )

    def checkout_start(self, *, application: Application, request: HttpRequest) -> HttpResponse:
        response = render(
            request,
            "shinsei/sbps/purchase.html",
            {
                "action": settings.SHINSEI_SBPS_PURCHASE_URL,
                "fields": self.purchase_fields(application=application),
            },
        )
        # This page alone may post to SBPS.
        response._csp_config = {  # type: ignore[attr-defined]
            **settings.SECURE_CSP,
            "form-action": [CSP.SELF, *self.form_action_origins()],
        }
        response["Cache-Control"] = "no-store"
        return response

    def form_action_origins(self) -> list[str]:
        return [origin_of(settings.SHINSEI_SBPS_PURCHASE_URL)]

    def payment_fetch(self, *, application: Application) -> GatewayPayment | None:
        """決済結果参照 by the tracking id of a verified result, if there is one."""
        from .models import SbpsResult

        known = (
            SbpsResult.objects.filter(application=application, res_result=link.RESULT_OK)
            .exclude(res_tracking_id="")
            .order_by("-id")
            .first()
        )
        if known is None:
            # SBPS holds no payment for us to end: past the due date, Shinsei
            # ends it itself (a success that still arrives wins, as always).
            due = application.payment_due_at
            if due is not None and due < timezone.now():
                return GatewayPayment(
                    id=application.reference,
                    reference=application.reference,
                    status=PaymentStatus.EXPIRED,
                )
            return None
        if known.res_pay_method not in INQUIRABLE:
            return None
        credentials = link_credentials(self.agency)
        client = api.SbpsApiClient(
            base_url=settings.SHINSEI_SBPS_API_URL,
            credentials=api.ApiCredentials(
                merchant_id=credentials.merchant_id,
                service_id=credentials.service_id,
                hash_key=credentials.hash_key,
            ),
            transport=transport(),
        )
        try:
            answer = client.inquire(
                tracking_id=known.res_tracking_id, sps_transaction_id="", now=timezone.now()
            )
        except api.SbpsApiError as exc:
            raise GatewayUnavailable(str(exc)) from None
        if not answer.ok:
            logger.warning("SBPS inquiry refused: %s", api.response_summary(answer))
            return None
        status = INQUIRY_STATUS.get(answer.get("res_pay_method_info.payment_status"))
        if status is None:
            return None
        return GatewayPayment(
            id=application.reference,
            reference=application.reference,
            status=status,
            method=METHODS.get(known.res_pay_method, ""),
            paid_at=known.res_payment_date,
        )
