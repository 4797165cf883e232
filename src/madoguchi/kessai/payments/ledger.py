"""Incremental statistics for the console (issue #5): every money movement
adds to its day's row in the same transaction as the movement itself."""

import datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import DailySummary

JST = ZoneInfo("Asia/Tokyo")


def jst_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(JST).date()


def ledger_add(
    *,
    merchant_id: int,
    method: str,
    at: datetime.datetime,
    succeeded_amount: int = 0,
    refunded_amount: int = 0,
) -> None:
    """Count one success (``succeeded_amount``) or one refund (``refunded_amount``)."""
    increments = {
        "succeeded_count": F("succeeded_count") + (1 if succeeded_amount else 0),
        "succeeded_amount": F("succeeded_amount") + succeeded_amount,
        "refunded_count": F("refunded_count") + (1 if refunded_amount else 0),
        "refunded_amount": F("refunded_amount") + refunded_amount,
    }
    key = {"day": jst_day(at), "merchant_id": merchant_id, "method": method}
    for _ in range(2):
        if DailySummary.objects.filter(**key).update(**increments):
            return
        try:
            with transaction.atomic():
                DailySummary.objects.create(
                    **key,
                    succeeded_count=1 if succeeded_amount else 0,
                    succeeded_amount=succeeded_amount,
                    refunded_count=1 if refunded_amount else 0,
                    refunded_amount=refunded_amount,
                )
            return
        except IntegrityError:
            continue  # another transaction created the row first: add to it
    raise RuntimeError("could not update the daily summary")
