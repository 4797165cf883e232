"""SBPS's link type: the citizen's browser posts the purchase request to
SBPS's payment page; SBPS posts the result to ``pagecon_url`` server to
server and returns the browser to the success, cancel or error URL.

What leaves Shinsei: SBPS's merchant and service ids, the 整理番号 (as
``order_id`` and ``cust_code``), the amount, a neutral fixed ``item_id`` and
``item_name``, Shinsei's own return URLs and the hash. No name, no procedure."""

import logging
from typing import TYPE_CHECKING

import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP

from madoguchi.contract.schemas import PaymentStatus, RefundStatus
from madoguchi.platform.conf import origin_of
from madoguchi.platform.http import make_client, transport
from madoguchi.sbps import api, link
from madoguchi.shinsei.applications.kessai import current_client_class
from madoguchi.shinsei.applications.models import Application, RefundRequest
from madoguchi.shinsei.procedures.models import Agency

from ..base import GatewayPayment, GatewayRefund, GatewayUnavailable, PaymentGateway
from ..registry import agency_setting

if TYPE_CHECKING:
    from .models import SbpsResult

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
# Likewise the refund requests (返金 ST02-00303-101, 部分返金 ST02-00307-101)
# are the credit card API's; none is documented for PayPay or Apple Pay.
REFUNDABLE = INQUIRABLE
METHOD_LABELS = {
    link.PAY_METHOD_PAYPAY: "PayPay",
    link.PAY_METHOD_APPLE_PAY: "Apple Pay",
}
# payment_status in an inquiry's answer, as in SBPS's recorded traffic:
# 1 after authorisation and sale, 3 after a refund.
INQUIRY_STATUS = {"1": PaymentStatus.SUCCEEDED, "3": PaymentStatus.REFUNDED}
# A citizen waits on these calls (支払う, the return from SBPS): SBPS answers
# within a few seconds or the page says so, rather than hanging on the
# worker's timeouts. The sweep's inquiries keep those.
INTERACTIVE_TIMEOUT = httpx.Timeout(3.0, connect=2.0)


def link_credentials(agency: Agency) -> link.LinkCredentials:
    return link.LinkCredentials(
        merchant_id=str(agency_setting(agency, "sbps_merchant_id")),
        service_id=str(agency_setting(agency, "sbps_service_id")),
        hash_key=str(agency_setting(agency, "sbps_hash_key")),
        hash_encoding=str(agency_setting(agency, "sbps_hash_encoding")),
    )


def api_client(agency: Agency, *, timeout: httpx.Timeout | None = None) -> api.SbpsApiClient:
    credentials = link_credentials(agency)
    return api.SbpsApiClient(
        base_url=settings.SHINSEI_SBPS_API_URL,
        credentials=api.ApiCredentials(
            merchant_id=credentials.merchant_id,
            service_id=credentials.service_id,
            hash_key=credentials.hash_key,
        ),
        transport=transport(),
        timeout=timeout,
    )


def verified_result(application: Application) -> "SbpsResult | None":
    """The successful purchase result whose hash verified (the first: the
    receiver keeps no other sale for an order): its tracking id names the
    sale at SBPS."""
    from .models import SbpsResult

    return (
        SbpsResult.objects.filter(application=application, res_result=link.RESULT_OK)
        .exclude(res_tracking_id="")
        .order_by("id")
        .first()
    )


def shinsei_url(name: str, *args: str) -> str:
    return settings.SHINSEI_PUBLIC_URL.rstrip("/") + reverse(name, args=args)


class SbpsLinkGateway(PaymentGateway):
    code = "sbps_link"
    label = "SBペイメントサービス（リンク型）"
    # SBPS's API takes no idempotency key: a refund is handed over once.
    refund_replay_safe = False

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
        self.purchase_page_check()
        response = render(
            request,
            "shinsei/sbps/purchase.html",
            {
                "action": settings.SHINSEI_SBPS_PURCHASE_URL,
                "fields": self.purchase_fields(application=application),
                "status_url": reverse("shinsei:status", args=[application.reference]),
            },
        )
        # This page alone may post to SBPS.
        response._csp_config = {  # type: ignore[attr-defined]
            **settings.SECURE_CSP,
            "form-action": [CSP.SELF, *self.form_action_origins()],
        }
        response["Cache-Control"] = "no-store"
        return response

    def purchase_page_check(self) -> None:
        """Is SBPS's payment page there? Asked before the page that posts the
        citizen's browser to it: with SBPS down the browser would end on its
        own connection error, with no word from the city. Any answer but a
        server error counts (the page takes only posts); none within
        ``INTERACTIVE_TIMEOUT`` raises ``GatewayUnavailable``, and 支払う says
        so on Shinsei's own page."""
        url = settings.SHINSEI_SBPS_PURCHASE_URL
        try:
            with make_client(timeout=INTERACTIVE_TIMEOUT) as client:
                status = client.get(url).status_code
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"SBPS payment page: {type(exc).__name__}") from None
        if status >= 500:
            raise GatewayUnavailable(f"SBPS payment page: HTTP {status}")

    def form_action_origins(self) -> list[str]:
        return [origin_of(settings.SHINSEI_SBPS_PURCHASE_URL)]

    def payment_outcome_pending(self, *, application: Application) -> bool:
        """SBPS's signed result says paid (the browser's copy, or a
        notification not yet applied) while Shinsei has not confirmed it:
        the outcome is being checked, and SBPS would refuse a second
        purchase of the order anyway (「この購入IDは決済済みです」)."""
        return (
            application.payment_status == Application.PaymentStatus.UNPAID
            and verified_result(application) is not None
        )

    def payment_fetch(self, *, application: Application) -> GatewayPayment | None:
        """決済結果参照 by the tracking id of a verified result, if there is one."""
        known = verified_result(application)
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
        status = self._inquire(known.res_tracking_id)
        if status is None:
            return None
        return GatewayPayment(
            id=application.reference,
            reference=application.reference,
            status=status,
            method=METHODS.get(known.res_pay_method, ""),
            paid_at=known.res_payment_date,
            refunded_amount=application.fee_amount if status == PaymentStatus.REFUNDED else 0,
        )

    def _inquire(self, tracking_id: str) -> PaymentStatus | None:
        interactive = current_client_class() == "interactive"
        client = api_client(self.agency, timeout=INTERACTIVE_TIMEOUT if interactive else None)
        try:
            answer = client.inquire(
                tracking_id=tracking_id, sps_transaction_id="", now=timezone.now()
            )
        except api.SbpsApiError as exc:
            raise GatewayUnavailable(str(exc)) from None
        if not answer.ok:
            logger.warning("SBPS inquiry refused: %s", api.response_summary(answer))
            return None
        return INQUIRY_STATUS.get(answer.get("res_pay_method_info.payment_status"))

    def payment_cancel(self, *, application: Application) -> GatewayPayment | None:
        """Nothing exists at SBPS before the citizen pays (the purchase request
        carries everything), so there is nothing to cancel there: the payment
        ends here, which takes 支払う away. A result that still arrives (the
        citizen was on SBPS's page) is applied as paid and flagged."""
        if not application.kessai_payment_id:
            return None
        return GatewayPayment(
            id=application.kessai_payment_id,
            reference=application.reference,
            status=PaymentStatus.CANCELLED,
        )

    def refund_refusal(self, *, application: Application) -> str:
        known = verified_result(application)
        if known is None:
            return (
                "SBペイメントサービスの決済結果（トラッキングID）が記録されていないため、"
                "この画面からは返金できません。SBペイメントサービスの管理画面で返金してください。"
            )
        if known.res_pay_method not in REFUNDABLE:
            method = METHOD_LABELS.get(known.res_pay_method, known.res_pay_method)
            return (
                f"SBペイメントサービス経由の{method}の支払いは、この画面からは返金できません"
                "（SBペイメントサービスの仕様で返金の要求が定められているのはクレジットカードのみです）。"
                "SBペイメントサービスの管理画面で返金してください。"
            )
        return ""

    def refund_send(self, *, application: Application, refund: RefundRequest) -> GatewayRefund:
        """返金 (ST02-00303-101) when the whole fee goes back at once, else
        部分返金 (ST02-00307-101), by the sale's tracking id. SBPS answers
        at once; an answer that never came leaves the refund pending (it is
        never sent again: SBPS takes no idempotency key)."""
        known = verified_result(application)
        if known is None or known.res_pay_method not in REFUNDABLE:
            return GatewayRefund(status=RefundStatus.FAILED, code="sbps_not_refundable")
        client = api_client(self.agency)
        now = timezone.now()
        whole = refund.amount == application.fee_amount and not application.refunded_amount
        try:
            if whole:
                answer = client.refund(
                    tracking_id=known.res_tracking_id, sps_transaction_id="", now=now
                )
            else:
                answer = client.partial_refund(
                    tracking_id=known.res_tracking_id,
                    sps_transaction_id="",
                    amount=refund.amount,
                    now=now,
                )
        except api.SbpsApiError as exc:
            if not exc.sent:
                raise GatewayUnavailable(str(exc)) from None
            logger.warning("SBPS refund %s: no answer (%s); left pending", refund.pk, exc)
            return GatewayRefund(status=RefundStatus.PENDING, code="sbps_no_answer")
        if not answer.ok:
            logger.warning("SBPS refund %s refused: %s", refund.pk, api.response_summary(answer))
            return GatewayRefund(status=RefundStatus.FAILED, code=answer.error_code or "sbps_ng")
        return GatewayRefund(
            status=RefundStatus.SUCCEEDED,
            id=answer.get("res_sps_transaction_id")[:40],
            at=now,
        )

    def refund_fetch(
        self, *, application: Application, refund: RefundRequest
    ) -> GatewayRefund | None:
        """The inquiry shows a sale refunded in full (payment_status 3), not a
        partial refund: only a refund that returns the rest of the fee can be
        recognised; any other stays pending for staff to check at SBPS."""
        known = verified_result(application)
        if known is None or known.res_pay_method not in INQUIRABLE:
            return None
        if refund.amount != application.fee_amount - application.refunded_amount:
            return None
        if self._inquire(known.res_tracking_id) != PaymentStatus.REFUNDED:
            return None
        return GatewayRefund(
            status=RefundStatus.SUCCEEDED,
            at=timezone.now(),
            refunded_amount=application.fee_amount,
        )
