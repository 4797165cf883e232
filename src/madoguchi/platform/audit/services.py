"""Writing and verifying the audit log (PCI DSS 10.2.2: user, event type,
time, outcome, origin and affected resource on every record)."""

import hashlib
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from .guard import RETENTION_DAYS
from .models import AuditRecord

GENESIS = "0" * 64
# PostgreSQL advisory lock key held while a record joins the chain ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974


def _chain_head_lock() -> None:
    """Serialise appends to the chain for the rest of the transaction.

    Locking the last row is not enough under READ COMMITTED: a writer waiting
    on that row gets it once the first commits, still sees it as the last
    (its snapshot predates the new row) and chains to it too, forking the
    chain. A transaction-level advisory lock taken *before* reading the head
    makes the read happen after the previous writer committed. SQLite needs
    nothing: its transactions begin IMMEDIATE (``platform/conf.py``), one
    writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


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


# The client address of the request being served in this thread or task,
# set by AuditOriginMiddleware: a service that records an action is not
# always handed the request (console operations, transfers, refunds), and
# every record made while serving one still says where it came from.
_serving_origin: ContextVar[str] = ContextVar("audit_serving_origin", default="")


def request_origin(request: HttpRequest | None) -> str:
    if request is None:
        return _serving_origin.get()
    from madoguchi.platform.network import client_address

    return client_address(request)


class AuditOriginMiddleware:
    """Makes the client address of each request the origin of every audit
    record written while it is served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _serving_origin.set(request_origin(request))
        try:
            return self.get_response(request)
        finally:
            _serving_origin.reset(token)


def audit_record(
    *,
    actor: str,
    event: str,
    outcome: str = AuditRecord.Outcome.SUCCESS,
    request: HttpRequest | None = None,
    resource: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record. Serialised by an advisory lock on the chain head
    (``_chain_head_lock``), so two writers never fork the chain."""
    with transaction.atomic():
        _chain_head_lock()
        last = AuditRecord.objects.order_by("-id").first()
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


PURGE_EVENT = "audit.purge"


def audit_purge(*, older_than_days: int) -> int:
    """Delete records older than the retention period (never under
    ``RETENTION_DAYS``; the database refuses earlier deletes anyway). A purge
    record keeps the hash the oldest remaining record chains to, so verify
    still checks the chain from there."""
    if older_than_days < RETENTION_DAYS:
        raise ValueError(f"audit records are kept at least {RETENTION_DAYS} days")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    with transaction.atomic():
        doomed = AuditRecord.objects.filter(occurred_at__lt=cutoff).order_by("-id")
        last = doomed.first()
        if last is None:
            return 0
        deleted, _ = AuditRecord.objects.filter(pk__lte=last.pk).delete()
        audit_record(
            actor="system",
            event=PURGE_EVENT,
            detail={"deleted": deleted, "through_id": last.pk, "last_hash": last.record_hash},
        )
    return deleted


def verify_chain() -> list[ChainProblem]:
    """Every record whose content or position in the chain was tampered with."""
    problems: list[ChainProblem] = []
    # After a retention purge the oldest record chains to the last purged one.
    anchors = {GENESIS} | {
        str(d.get("last_hash", ""))
        for d in AuditRecord.objects.filter(event=PURGE_EVENT).values_list("detail", flat=True)
    }
    previous_hash = None
    for record in AuditRecord.objects.order_by("id").iterator():
        expected = anchors if previous_hash is None else {previous_hash}
        if record.previous_hash not in expected:
            problems.append(ChainProblem(record.pk, "previous record missing or altered"))
        if _digest(_hashed_fields(record), record.previous_hash) != record.record_hash:
            problems.append(ChainProblem(record.pk, "record content altered"))
        previous_hash = record.record_hash
    return problems


class AuditChainBroken(Exception):
    """``verify`` found edited or deleted records."""


def audit_verify_sweep() -> None:
    """Periodic ``verify``: its result is the sweep's (``ScheduledJob.last_ok``),
    which the metrics report and the alert rules page on."""
    problems = verify_chain()
    if problems:
        raise AuditChainBroken(f"{len(problems)} problem(s) in the audit chain")
