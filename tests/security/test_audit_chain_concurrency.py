"""The audit chain under real concurrent writers on PostgreSQL (READ
COMMITTED): each thread has its own connection; the chain must not fork.
SQLite serialises every writer, so there is nothing to race there."""

import threading

import pytest
from django.db import connection, connections

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import audit_record, verify_chain

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]

WRITERS = 8
RECORDS_EACH = 5


def test_concurrent_writers_never_fork_the_chain() -> None:
    # Given: a chain with one record
    audit_record(actor="system", event="test.start")
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait()
            for n in range(RECORDS_EACH):
                audit_record(actor=f"writer{index}", event="test.write", detail={"n": n})
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    # When: eight writers append at the same moment
    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then: every record chains to a different predecessor and verify is clean
    assert failures == []
    assert AuditRecord.objects.count() == 1 + WRITERS * RECORDS_EACH
    previous = list(AuditRecord.objects.values_list("previous_hash", flat=True))
    assert len(set(previous)) == len(previous)
    assert verify_chain() == []
