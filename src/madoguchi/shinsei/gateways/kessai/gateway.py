"""Madoguchi Kessai through contract v1 (the gateway of every agency until #13)."""

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import get_language

from madoguchi.contract import schemas
from madoguchi.contract.client import KessaiError
from madoguchi.platform.conf import origin_of
from madoguchi.shinsei.applications.kessai import kessai_client
from madoguchi.shinsei.applications.models import Application, RefundRequest

from ..base import GatewayPayment, GatewayRefund, PaymentGateway

LIVE = (
    schemas.PaymentStatus.CREATED,
    schemas.PaymentStatus.STARTED,
    schemas.PaymentStatus.SUCCEEDED,
)


def from_contract(payment: schemas.Payment) -> GatewayPayment:
    return GatewayPayment(
        id=payment.id,
        reference=payment.reference,
        status=payment.status,
        method=payment.method.value if payment.method else "",
        paid_at=payment.paid_at,
        refunded_amount=payment.refunded_amount,
        amount=payment.amount,
    )


# Kessai's answers that will not change by retrying: the refund failed.
FINAL_REFUND_ERRORS = {
    "refund_amount_mismatch",
    "refund_amount_unavailable",
    "payment_not_refundable",
    "payment_not_found",
    "validation_error",
}
CANCEL_FINAL_ERRORS = {"payment_not_cancellable", "payment_not_found"}


def idempotency_key_for_payment(application: Application) -> str:
    return f"shinsei-application-{application.pk}-payment"


def idempotency_key_for_refund(refund: RefundRequest) -> str:
    return f"shinsei-refund-{refund.pk}"


def return_url_for(application: Application) -> str:
    base = settings.SHINSEI_PUBLIC_URL.rstrip("/")
    return f"{base}/applications/{application.reference}/payment-return"


class KessaiGateway(PaymentGateway):
    code = "kessai"
    label = "窓口決済（Kessai）"

    def payment_create(self, *, application: Application) -> GatewayPayment:
        request = schemas.PaymentCreateRequest(
            reference=application.reference,
            amount=application.fee_amount,
            return_url=return_url_for(application),
            due_at=application.payment_due_at,
            # The language the citizen applied in (the page's default).
            language="en" if application.language == "en" else "ja",
        )
        with kessai_client(self.agency) as client:
            try:
                payment = client.create_payment(
                    request, idempotency_key=idempotency_key_for_payment(application)
                )
            except KessaiError as exc:
                if exc.error.code != "reference_in_use":
                    raise
                # Created earlier under a key that has since expired: adopt it.
                payment = next(
                    p
                    for p in client.list_payments(reference=application.reference)
                    if p.status in LIVE
                )
        return from_contract(payment)

    def payment_fetch(self, *, application: Application) -> GatewayPayment | None:
        with kessai_client(self.agency) as client:
            return from_contract(client.get_payment(application.kessai_payment_id))

    def checkout_start(self, *, application: Application, request: HttpRequest) -> HttpResponse:
        with kessai_client(self.agency, client_class="interactive") as client:
            # A fresh key per press: every press deserves its own single-use link.
            # The page opens in the language the citizen is reading Shinsei in now.
            link = client.create_checkout(
                application.kessai_payment_id,
                idempotency_key=f"shinsei-checkout-{uuid.uuid4()}",
                language=get_language() if get_language() in ("ja", "en") else None,
            )
        return HttpResponseRedirect(link.url)

    def form_action_origins(self) -> list[str]:
        return [origin_of(settings.SHINSEI_KESSAI_API_URL)]

    def payment_cancel(self, *, application: Application) -> GatewayPayment | None:
        """Kessai's cancel (``Idempotency-Key: shinsei-application-<id>-cancel``).
        A payment not linked yet is found by its 整理番号. When Kessai refuses
        because the payment was paid meanwhile, its paid view is returned."""
        with kessai_client(self.agency) as client:
            payment_id = application.kessai_payment_id
            if not payment_id:
                live = [
                    p
                    for p in client.list_payments(reference=application.reference)
                    if not p.status.is_final or p.status == schemas.PaymentStatus.SUCCEEDED
                ]
                if not live:
                    return None
                payment_id = live[0].id
                Application.objects.filter(pk=application.pk, kessai_payment_id="").update(
                    kessai_payment_id=payment_id
                )
                application.refresh_from_db()
            try:
                payment = client.cancel_payment(
                    payment_id, idempotency_key=f"shinsei-application-{application.pk}-cancel"
                )
            except KessaiError as exc:
                if exc.error.code not in CANCEL_FINAL_ERRORS:
                    raise  # attempt in progress, outage: the task retries
                payment = client.get_payment(payment_id)
        return from_contract(payment)

    def refund_send(self, *, application: Application, refund: RefundRequest) -> GatewayRefund:
        """``POST /v1/payments/{id}/refunds`` with the request's Idempotency-Key
        and the expected refundable amount: a retry replays Kessai's first
        answer, and a refund that raced it is refused rather than paid twice.
        Kessai refunds through the method the citizen used."""
        request = schemas.RefundCreateRequest(
            amount=refund.amount,
            expected_refundable_amount=refund.expected_refundable_amount or 0,
        )
        with kessai_client(self.agency) as client:
            try:
                answer = client.create_refund(
                    application.kessai_payment_id,
                    request,
                    idempotency_key=idempotency_key_for_refund(refund),
                )
            except KessaiError as exc:
                if exc.error.code not in FINAL_REFUND_ERRORS:
                    raise
                return GatewayRefund(status=schemas.RefundStatus.FAILED, code=exc.error.code)
            payment = (
                client.get_payment(application.kessai_payment_id)
                if answer.status == schemas.RefundStatus.SUCCEEDED
                else None
            )
        return GatewayRefund(
            status=answer.status,
            id=answer.id,
            at=answer.succeeded_at,
            refunded_amount=payment.refunded_amount if payment is not None else None,
        )

    def refund_fetch(self, *, application: Application, refund: RefundRequest) -> GatewayRefund:
        with kessai_client(self.agency) as client:
            answer = client.get_refund(application.kessai_payment_id, refund.kessai_refund_id)
            payment = client.get_payment(application.kessai_payment_id)
        return GatewayRefund(
            status=answer.status,
            id=answer.id,
            at=answer.succeeded_at,
            refunded_amount=payment.refunded_amount,
        )
