import hashlib
from datetime import datetime

from django.db.models import QuerySet

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant

from .errors import PaymentNotFound, RefundNotFound
from .models import CheckoutToken, Payment, PaymentEvent, Refund

# Event data keys a merchant may see (internal ids such as attempt numbers are
# harmless, but the list keeps anything added later from leaking by default).
PUBLIC_EVENT_KEYS = ("method", "code", "amount", "refund", "three_ds", "eci")


def payment_get(*, merchant: Merchant, public_id: str) -> Payment:
    # public_id is unique: one row or none, nothing to order (``first()``
    # would add an ORDER BY for the ORM to compile on every API call).
    rows = list(Payment.objects.filter(merchant=merchant, public_id=public_id)[:1])
    if not rows:
        raise PaymentNotFound()
    return rows[0]


def payment_list(
    *,
    merchant: Merchant,
    reference: str | None = None,
    updated_since: datetime | None = None,
    status: schemas.PaymentStatus | None = None,
    method: schemas.PaymentMethod | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> QuerySet[Payment]:
    queryset = Payment.objects.filter(merchant=merchant).order_by("-created_at", "-id")
    if reference:
        queryset = queryset.filter(reference=reference)
    if updated_since:
        queryset = queryset.filter(updated_at__gte=updated_since)
    if status:
        queryset = queryset.filter(status=status)
    if method:
        queryset = queryset.filter(method=method)
    if created_from:
        queryset = queryset.filter(created_at__gte=created_from)
    if created_to:
        queryset = queryset.filter(created_at__lt=created_to)
    return queryset


def payment_events(*, payment: Payment) -> list[schemas.PaymentEventItem]:
    events = PaymentEvent.objects.filter(payment=payment).order_by("id")
    return [
        schemas.PaymentEventItem(
            type=event.type,
            created_at=event.created_at,
            data={k: event.data[k] for k in PUBLIC_EVENT_KEYS if k in event.data},
        )
        for event in events
    ]


def refund_get(*, payment: Payment, public_id: str) -> Refund:
    refund = Refund.objects.filter(payment=payment, public_id=public_id).first()
    if refund is None:
        raise RefundNotFound()
    return refund


def refund_to_contract(refund: Refund) -> schemas.Refund:
    return schemas.Refund(
        id=refund.public_id,
        payment_id=refund.payment.public_id,
        amount=refund.amount,
        status=schemas.RefundStatus(refund.status),
        created_at=refund.created_at,
        succeeded_at=refund.succeeded_at,
    )


def payment_to_contract(payment: Payment, *, next_url: str | None = None) -> schemas.Payment:
    return schemas.Payment(
        id=payment.public_id,
        reference=payment.reference,
        amount=payment.amount,
        status=schemas.PaymentStatus(payment.status),
        method=schemas.PaymentMethod(payment.method) if payment.method else None,
        paid_at=payment.paid_at,
        due_at=payment.due_at,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
        refunded_amount=payment.refunded_amount,
        refundable_amount=payment.refundable_amount,
        next_url=next_url,
    )


def checkout_link_ended_status(*, raw_token: str) -> str:
    """For a checkout link that can no longer be used: its payment's status
    when that payment has ended (paid, cancelled, expired, refunded), so the
    page can say so instead of sending the citizen back to pay; "" otherwise."""
    token_hash = hashlib.sha256(raw_token.encode()).hexdigest()
    status = (
        CheckoutToken.objects.filter(token_hash=token_hash)
        .values_list("payment__status", flat=True)
        .first()
    )
    return str(status) if status in schemas.FINAL_PAYMENT_STATUSES else ""
