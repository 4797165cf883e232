"""Audit log (seed 2(6)ア(ウ), PCI DSS 10): append-only at the database,
kept 12 months, verified by ``verify``, readable by administrators."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from madoguchi.platform.audit.guard import guard_install, guard_remove
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import audit_purge, audit_record, verify_chain
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import console_client, login, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded(db: None) -> Any:
    """The triggers migration 0002 installs (test settings leave them out so
    that tests emptying the database can; this test's transaction rolls back)."""
    assert guard_install(connection)
    yield
    guard_remove(connection)


def test_the_database_refuses_to_edit_an_audit_record(guarded: None) -> None:
    record = audit_record(actor="system", event="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).update(actor="someone-else")
    assert AuditRecord.objects.get(pk=record.pk).actor == "system"


def test_the_database_refuses_to_delete_a_record_within_twelve_months(guarded: None) -> None:
    record = audit_record(actor="system", event="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).delete()
    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_records_past_retention_can_be_purged_and_the_chain_still_verifies(db: None) -> None:
    for n in range(3):
        audit_record(actor="system", event=f"old-{n}")
    AuditRecord.objects.update(occurred_at=timezone.now() - timedelta(days=400))
    # The stored hashes cover occurred_at: re-chain these "old" records as if
    # written then (direct SQL stands in for the passage of time).
    _rechain()
    audit_record(actor="system", event="recent")
    guard_install(connection)
    try:
        with pytest.raises(ValueError, match="366"):
            audit_purge(older_than_days=365)

        assert audit_purge(older_than_days=366) == 3

        assert list(AuditRecord.objects.values_list("event", flat=True)) == [
            "recent",
            "audit.purge",
        ]
        assert verify_chain() == []
    finally:
        guard_remove(connection)


def _rechain() -> None:
    from madoguchi.platform.audit import services

    previous = services.GENESIS
    for record in AuditRecord.objects.order_by("id"):
        record.previous_hash = previous
        record.record_hash = services._digest(services._hashed_fields(record), previous)
        record.save()
        previous = record.record_hash


def test_verify_reports_a_record_edited_directly_in_the_database(db: None) -> None:
    for n in range(4):
        audit_record(actor="system", event=f"event-{n}")
    edited = AuditRecord.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE platform_audit_record SET outcome = 'success', actor = %s WHERE id = %s",
            ["staff:99", edited.pk],
        )
    out = StringIO()

    with pytest.raises(CommandError, match="1 problem"):
        call_command("verify", stdout=out)

    assert out.getvalue() == f"record {edited.pk}: record content altered\n"


def test_verify_reports_a_record_deleted_directly_in_the_database(db: None) -> None:
    for n in range(4):
        audit_record(actor="system", event=f"event-{n}")
    records = list(AuditRecord.objects.order_by("id"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM platform_audit_record WHERE id = %s", [records[1].pk])
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify", stdout=out)

    assert out.getvalue() == f"record {records[2].pk}: previous record missing or altered\n"


def test_verify_says_intact_when_nothing_was_touched(db: None) -> None:
    for n in range(3):
        audit_record(actor="system", event=f"event-{n}")
    out = StringIO()
    call_command("verify", stdout=out)
    assert out.getvalue() == "audit log intact: 3 records\n"


def test_logins_logouts_and_password_changes_are_recorded(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    new = "Shiyakusho2026kensa"
    password = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-shimin")[
        "password"
    ]
    client.post(
        "/password",
        {"current_password": password, "new_password": new, "new_password_again": new},
    )
    client.post("/logout")
    Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="127.0.0.5").post(
        "/login", {"login_id": "staff-shimin", "password": "nope"}
    )

    rows = list(
        AuditRecord.objects.order_by("id").values_list("actor", "event", "outcome", "origin")
    )

    key = rows[0][0]
    assert rows == [
        (key, "login", "success", "127.0.0.1"),
        (key, "password.change", "success", "127.0.0.1"),
        (key, "login", "success", "127.0.0.1"),  # carries on in a new session
        (key, "logout", "success", "127.0.0.1"),
        (key, "login", "failure", "127.0.0.5"),
    ]
    assert verify_chain() == []


def test_administrators_read_the_audit_log_on_the_console_and_viewers_cannot(demo: Any) -> None:
    admin = console_client(demo, "administrator")
    viewer = console_client(demo, "viewer")

    page = admin.get("/audit")
    refused = viewer.get("/audit")

    assert page.status_code == 200
    assert "console:" in page.content.decode()  # the console logins are listed
    assert "no-store" in page["Cache-Control"]
    assert refused.status_code == 403
    assert AuditRecord.objects.filter(event="audit.view", outcome="denied").count() == 1
    verified = admin.get("/audit?verify=1").content.decode()
    assert (
        '<div class="notice notice-success" role="status"><p>改ざん・削除は見つかりませんでした'
        in verified
    )
    assert "<td>拒否</td>" in verified  # outcomes in plain Japanese
    assert "<td>denied</td>" not in verified


def test_the_audit_screen_is_read_only(demo: Any) -> None:
    admin = console_client(demo, "administrator")
    before = AuditRecord.objects.count()
    assert admin.post("/audit", {"event": "x"}).status_code == 405
    assert AuditRecord.objects.count() == before + 0


def test_staff_without_the_administrator_role_cannot_read_it(demo: Any) -> None:
    assert staff_client(demo, "shimin").get("/audit").status_code == 403


def _staff_by_id(demo: Any, login_id: str) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == login_id)
    login(client, login_id, account["password"])
    return client


def test_a_staff_administrator_reads_it_and_a_reviewer_cannot(demo: Any) -> None:
    # Given the 市長 agency's administrator and its reviewer (who sees every
    # department's applications, but is not an administrator)
    admin = _staff_by_id(demo, "admin-mayor")
    reviewer = _staff_by_id(demo, "reviewer-mayor")

    # When both open the audit log
    page = admin.get("/audit")
    refused = reviewer.get("/audit")

    # Then only the administrator reads it, and the refusal is recorded
    assert page.status_code == 200
    assert "staff:" in page.content.decode()  # the staff logins are listed
    assert refused.status_code == 403
    denied = AuditRecord.objects.filter(event="audit.view", outcome="denied")
    assert denied.count() == 1
    assert denied.get().actor == StaffAccount.objects.get(login_id="reviewer-mayor").account_key
