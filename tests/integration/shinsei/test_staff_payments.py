"""Staff journeys of Shinsei that need Kessai to answer the payment request
(moved from tests/shinsei/test_inbox.py and test_staff_workflow.py, which run
under Shinsei's settings alone)."""

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.procedures.models import Procedure
from tests.conftest import staff_client
from tests.shinsei.test_inbox import _refs
from tests.support.journey import ANSWERS, accept, submit_application


def test_overdue_unpaid_applications_are_marked_and_listed(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    late, _ = submit_application(citizen)
    on_time, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, late)
    accept(staff, on_time)
    run_tasks()
    Application.objects.filter(pk=late.pk).update(
        payment_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert _refs(staff, "overdue=on") == {late.reference}
    page = staff.get("/").content.decode()
    assert f'data-testid="overdue-{late.reference}"' in page
    assert f'data-testid="overdue-{on_time.reference}"' not in page
    assert "期限超過" in staff.get(f"/applications/{late.reference}/").content.decode()


def test_staff_set_amount_at_acceptance(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    Procedure.objects.filter(slug="kousaku-shomei").update(fee_kind="staff_set", fee_amount=0)
    answers = {**ANSWERS, "farmland": "藤沢市大庭1番"}
    application, _ = submit_application(citizen, "kousaku-shomei", answers)
    assert (application.fee_amount, application.payment_status) == (0, "not_yet")
    staff = staff_client(demo, "nougyou-jimukyoku")
    page = staff.get(f"/applications/{application.reference}/").content.decode()
    assert 'name="amount"' in page
    bad = staff.post(f"/applications/{application.reference}/accept", {"amount": "abc"})
    assert bad.status_code == 400
    missing = staff.post(f"/applications/{application.reference}/accept", {"amount": ""})
    assert missing.status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted"
    staff.post(f"/applications/{application.reference}/accept", {"amount": "1200"})
    application.refresh_from_db()
    assert (application.status, application.fee_amount, application.payment_status) == (
        "accepted",
        1200,
        "preparing",
    )
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
