"""Madoguchi Kessai through contract v1 (the gateway of every agency until #13)."""

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import get_language

from madoguchi.contract import schemas
from madoguchi.contract.client import KessaiError
from madoguchi.platform.conf import origin_of
from madoguchi.shinsei.applications.kessai import kessai_client
from madoguchi.shinsei.applications.models import Application

from ..base import GatewayPayment, PaymentGateway

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


def idempotency_key_for_payment(application: Application) -> str:
    return f"shinsei-application-{application.pk}-payment"


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
