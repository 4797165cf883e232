"""Writing and verifying the audit log (PCI DSS 10.2.2: user, event type,
time, outcome, origin and affected resource on every record)."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AuditRecord

GENESIS = "0" * 64


def _digest(fields: dict[str, Any], previous_hash: str) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def _hashed_fields(record: AuditRecord) -> dict[str, Any]:
    return {
        "occurred_at": record.occurred_at.isoformat(),
        "actor": record.actor,
        "event": record.event,
        "outcome": record.outcome,
        "origin": record.origin,
        "resource": record.resource,
        "detail": record.detail,
    }


def request_origin(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


def audit_record(
    *,
    actor: str,
    event: str,
    outcome: str = AuditRecord.Outcome.SUCCESS,
    request: HttpRequest | None = None,
    resource: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record. Serialised by locking the chain's last row, so two
    writers never fork the chain."""
    with transaction.atomic():
        last = AuditRecord.objects.select_for_update().order_by("-id").first()
        record = AuditRecord(
            occurred_at=timezone.now(),
            actor=actor,
            event=event,
            outcome=outcome,
            origin=request_origin(request),
            resource=resource,
            detail=detail or {},
            previous_hash=last.record_hash if last else GENESIS,
        )
        record.record_hash = _digest(_hashed_fields(record), record.previous_hash)
        record.save(force_insert=True)
        return record


@dataclass(frozen=True)
class ChainProblem:
    record_id: int
    problem: str


def verify_chain() -> list[ChainProblem]:
    """Every record whose content or position in the chain was tampered with."""
    problems: list[ChainProblem] = []
    previous_hash = GENESIS
    for record in AuditRecord.objects.order_by("id").iterator():
        if record.previous_hash != previous_hash:
            problems.append(ChainProblem(record.pk, "previous record missing or altered"))
        if _digest(_hashed_fields(record), record.previous_hash) != record.record_hash:
            problems.append(ChainProblem(record.pk, "record content altered"))
        previous_hash = record.record_hash
    return problems
