from typing import Any

from django.db.models import Count, QuerySet, Sum

from madoguchi.contract.schemas import PaymentStatus
from madoguchi.kessai.payments.models import Payment


def payments_recent(limit: int = 100) -> QuerySet[Payment, Any]:
    # values() with an explicit list: card brand and last four never leave the
    # attempts table for the console.
    return Payment.objects.order_by("-created_at").values(
        "public_id",
        "merchant__display_name",
        "reference",
        "amount",
        "status",
        "method",
        "paid_at",
        "created_at",
    )[:limit]


def totals_by_method() -> list[dict[str, Any]]:
    rows = (
        Payment.objects.filter(status=PaymentStatus.SUCCEEDED)
        .values("method")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("method")
    )
    return [dict(row) for row in rows]
