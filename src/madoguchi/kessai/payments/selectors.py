from datetime import datetime

from django.db.models import QuerySet

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant

from .errors import PaymentNotFound
from .models import Payment


def payment_get(*, merchant: Merchant, public_id: str) -> Payment:
    payment = Payment.objects.filter(merchant=merchant, public_id=public_id).first()
    if payment is None:
        raise PaymentNotFound()
    return payment


def payment_list(
    *, merchant: Merchant, reference: str | None = None, updated_since: datetime | None = None
) -> QuerySet[Payment]:
    queryset = Payment.objects.filter(merchant=merchant).order_by("-created_at", "-id")
    if reference:
        queryset = queryset.filter(reference=reference)
    if updated_since:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


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
        next_url=next_url,
    )
