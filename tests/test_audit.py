"""The audit log: records logins and views of personal data; verify finds tampering."""

from typing import Any

from django.test import Client

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import audit_record, verify_chain
from tests.conftest import staff_client
from tests.support.journey import submit_application


def test_staff_login_and_view_are_recorded_with_origin(demo: Any, citizen: Client) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    staff.get(f"/applications/{application.reference}/")
    Client(HTTP_HOST="staff.shinsei.test").post("/login", {"login_id": "x", "password": "y"})
    rows = list(AuditRecord.objects.values_list("actor", "event", "outcome", "resource"))
    staff_key = rows[0][0]
    assert staff_key.startswith("staff:")
    assert rows == [
        (staff_key, "login", "success", ""),
        (staff_key, "application.view", "success", f"application:{application.reference}"),
        ("staff-login:unknown", "login", "failure", ""),
    ]
    assert set(AuditRecord.objects.values_list("origin", flat=True)) == {"127.0.0.1"}
    assert verify_chain() == []


def test_verify_finds_an_edited_record(db: None) -> None:
    for n in range(3):
        audit_record(actor="system", event=f"event-{n}")
    middle = AuditRecord.objects.order_by("id")[1]
    AuditRecord.objects.filter(pk=middle.pk).update(actor="someone-else")
    assert [(p.record_id, p.problem) for p in verify_chain()] == [
        (middle.pk, "record content altered")
    ]


def test_verify_finds_a_deleted_record(db: None) -> None:
    for n in range(3):
        audit_record(actor="system", event=f"event-{n}")
    _first, middle, last = AuditRecord.objects.order_by("id")
    middle.delete()
    assert [(p.record_id, p.problem) for p in verify_chain()] == [
        (last.pk, "previous record missing or altered")
    ]
