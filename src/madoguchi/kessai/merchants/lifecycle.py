"""A merchant's life from registration to the end of its contract.

Contract end follows the seed (section 2(6)イ(エ)): the merchant's credentials
and every piece of its data are deleted at once, except the payment history
(reference, amount, method, dates, status), which is kept for
``KESSAI_HISTORY_RETENTION_DAYS`` and then deleted by the periodic sweep. Each
deletion leaves a ``DeletionReport`` saying what went and when.
"""

import datetime
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Min
from django.utils import timezone

from madoguchi.kessai.history.models import ContractEnd, DeletionReport, PaymentHistory
from madoguchi.kessai.payments.models import Attempt, DailySummary, Payment, Refund

from .models import ApiKey, Merchant
from .services import (
    IssuedApiKey,
    api_key_cache_clear,
    api_key_issue,
    api_key_revoke,
    merchant_create,
)

DEFAULT_RETENTION_DAYS = 5 * 366
CHUNK = 2000
# Kept at contract end, deleted with the history: the figures already booked.
_KEPT_UNTIL_PURGE: tuple[type[models.Model], ...] = (DailySummary,)


class ContractAlreadyEnded(Exception):
    pass


class PaymentsInFlight(Exception):
    """An attempt is still waiting for the provider's answer: deleting its
    payment now could lose the record of money taken. Try again later."""


def retention_period() -> datetime.timedelta:
    days = int(getattr(settings, "KESSAI_HISTORY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    return datetime.timedelta(days=days)


@dataclass(frozen=True)
class RegisteredMerchant:
    merchant: Merchant
    api_key: IssuedApiKey


def merchant_register(*, code: str, display_name: str, notification_url: str) -> RegisteredMerchant:
    """Register an agency (実施機関) as a merchant; its key and secret are shown once."""
    merchant, issued = merchant_create(
        code=code, display_name=display_name, notification_url=notification_url
    )
    return RegisteredMerchant(merchant=merchant, api_key=issued)


@transaction.atomic
def merchant_api_key_rotate(*, merchant: Merchant) -> IssuedApiKey:
    """Issue a new API key and revoke every older one in the same transaction."""
    locked = Merchant.objects.select_for_update().get(pk=merchant.pk, is_active=True)
    old_keys = list(ApiKey.objects.filter(merchant=locked, revoked_at__isnull=True))
    issued = api_key_issue(merchant=locked)
    for api_key in old_keys:
        api_key_revoke(api_key=api_key)
    return issued


def merchant_notification_secret_rotate(*, merchant: Merchant) -> str:
    """A new signing secret; the previous one keeps signing alongside until
    the merchant has switched (see docs/api.md, two ``v1`` signatures)."""
    new_secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk, is_active=True)
        Merchant.objects.filter(pk=locked.pk).update(
            notification_secret=new_secret,
            previous_notification_secret=locked.notification_secret,
        )
    return new_secret


def merchant_notification_secret_retire_previous(*, merchant: Merchant) -> bool:
    return bool(
        Merchant.objects.filter(pk=merchant.pk, is_active=True)
        .exclude(previous_notification_secret="")
        .update(previous_notification_secret="")
    )


def _table(label: str) -> str:
    from django.apps import apps

    return str(apps.get_model(label)._meta.db_table)


def _merge(counts: Counter[str], deleted: dict[str, int]) -> None:
    for label, count in deleted.items():
        if count:
            counts[_table(label)] += count


def merchant_contract_end(
    *, merchant: Merchant, ended_by: str, now: datetime.datetime | None = None
) -> DeletionReport:
    """End the contract: everything goes at once but the payment history."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if not locked.is_active or ContractEnd.objects.filter(merchant=locked).exists():
            raise ContractAlreadyEnded(locked.code)
        in_flight = Attempt.objects.filter(
            payment__merchant=locked,
            status__in=[Attempt.Status.PENDING, Attempt.Status.UNKNOWN],
        )
        if in_flight.exists():
            raise PaymentsInFlight(locked.code)
        contract = ContractEnd.objects.create(
            merchant=locked,
            merchant_code=locked.code,
            merchant_name=locked.display_name,
            ended_at=now,
            ended_by=ended_by,
            retain_until=now + retention_period(),
        )
        deleted: Counter[str] = Counter()
        kept = Payment.objects.filter(merchant=locked).aggregate(
            first=Min("created_at"), last=Max("updated_at")
        )
        kept_count = 0
        # In chunks, so a merchant with millions of payments does not load
        # them all at once; one transaction, so it is all or nothing.
        while True:
            chunk = list(
                Payment.objects.filter(merchant=locked)
                .order_by("pk")
                .values(
                    "pk",
                    "public_id",
                    "reference",
                    "amount",
                    "method",
                    "status",
                    "created_at",
                    "paid_at",
                    "due_at",
                    "updated_at",
                )[:CHUNK]
            )
            if not chunk:
                break
            PaymentHistory.objects.bulk_create(
                PaymentHistory(
                    contract_end=contract,
                    payment_id=row["public_id"],
                    reference=row["reference"],
                    amount=row["amount"],
                    method=row["method"],
                    status=row["status"],
                    created_at=row["created_at"],
                    paid_at=row["paid_at"],
                    due_at=row["due_at"],
                    updated_at=row["updated_at"],
                )
                for row in chunk
            )
            kept_count += len(chunk)
            # The collector follows every relation to Payment (attempts with
            # their card brand and last four, events, notifications and their
            # delivery log, checkout links, refunds …), whoever added it.
            payment_ids = [row["pk"] for row in chunk]
            # Refunds protect their payment and attempt from accidental deletion;
            # at contract end they go first, counted like everything else.
            _, per_model = Refund.objects.filter(payment_id__in=payment_ids).delete()
            _merge(deleted, per_model)
            _, per_model = Payment.objects.filter(pk__in=payment_ids).delete()
            _merge(deleted, per_model)
        for api_key in ApiKey.objects.filter(merchant=locked, revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
        # Everything else that points at the merchant (API keys, idempotency
        # records, whatever a later feature adds) except what stays for now.
        for relation in Merchant._meta.related_objects:
            model = relation.related_model
            if model in (Payment, *_KEPT_UNTIL_PURGE) or model._meta.app_label == "kessai_history":
                continue
            _, per_model = model._base_manager.filter(**{relation.field.name: locked}).delete()
            _merge(deleted, per_model)
        secrets_count = len(locked.signing_secrets())
        Merchant.objects.filter(pk=locked.pk).update(
            is_active=False,
            notification_secret="",
            previous_notification_secret="",
            notification_url="",
            sbps_hash_key="",
        )
        # Keys still in a rotation's overlap end with the contract, here at once.
        api_key_cache_clear()
        deleted["kessai_merchant.notification_secret"] = secrets_count
        deleted["kessai_merchant.notification_url"] = 1
        if locked.sbps_hash_key:
            deleted["kessai_merchant.sbps_hash_key"] = 1
        return DeletionReport.objects.create(
            kind=DeletionReport.Kind.CONTRACT_END,
            merchant_code=locked.code,
            merchant_name=locked.display_name,
            performed_at=now,
            performed_by=ended_by,
            deleted=dict(sorted(deleted.items())),
            kept=_kept_summary(kept_count, kept),
            retain_until=contract.retain_until,
        )


def _kept_summary(count: int, span: dict[str, Any]) -> dict[str, Any]:
    return {
        "kessai_payment_history": count,
        "first_created_at": span["first"].isoformat() if span["first"] else None,
        "last_updated_at": span["last"].isoformat() if span["last"] else None,
    }


def history_purge_due(*, now: datetime.datetime | None = None) -> list[DeletionReport]:
    """Delete the history of every ended contract whose retention has passed.
    Idempotent: a contract is claimed by a conditional update."""
    now = now or timezone.now()
    reports = []
    due = ContractEnd.objects.filter(retain_until__lte=now, purged_at__isnull=True)
    for contract_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            if not ContractEnd.objects.filter(pk=contract_id, purged_at__isnull=True).update(
                purged_at=now
            ):
                continue  # another worker took it
            contract = ContractEnd.objects.get(pk=contract_id)
            deleted: Counter[str] = Counter()
            _, per_model = PaymentHistory.objects.filter(contract_end=contract).delete()
            _merge(deleted, per_model)
            if contract.merchant_id is not None:
                for model in _KEPT_UNTIL_PURGE:
                    _, per_model = model._base_manager.filter(
                        merchant_id=contract.merchant_id
                    ).delete()
                    _merge(deleted, per_model)
                # Payment is PROTECTed, so this fails loudly if anything new
                # was ever attached to the ended merchant.
                _, per_model = Merchant.objects.filter(pk=contract.merchant_id).delete()
                _merge(deleted, per_model)
            reports.append(
                DeletionReport.objects.create(
                    kind=DeletionReport.Kind.RETENTION_END,
                    merchant_code=contract.merchant_code,
                    merchant_name=contract.merchant_name,
                    performed_at=now,
                    performed_by="system:history_sweep",
                    deleted=dict(sorted(deleted.items())),
                    kept={},
                    retain_until=contract.retain_until,
                )
            )
    return reports
