"""Two approvers press 承認 on the same refund request at the same moment:
real concurrent transactions on PostgreSQL (skipped on SQLite, which
serialises every writer). The conditional update lets one through: one
approval, one send queued."""

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from madoguchi.shinsei.applications import refunds
from madoguchi.shinsei.applications.models import Application, RefundRequest
from madoguchi.shinsei.applications.services import ApplicationError
from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.shinsei.staff.models import StaffAccount

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def approve(
    barrier: threading.Barrier, outcomes: list[str], staff: StaffAccount, refund_id: int
) -> None:
    """One approver's press, in its own thread and connection."""
    try:
        barrier.wait()
        target = RefundRequest.objects.select_related("application__procedure").get(pk=refund_id)
        refunds.refund_request_approve(refund=target, staff=staff)
        outcomes.append("approved")
    except ApplicationError:
        outcomes.append("refused")
    finally:
        connections.close_all()


def test_two_approvers_at_once_approve_once(demo: dict[str, Any]) -> None:
    for round_ in range(5):
        application = Application.objects.create(
            procedure=Procedure.objects.get(slug="juminhyo"),
            reference=f"7700000000{round_:02d}",
            inquiry_password="x",
            answers_sealed=b"",
            fee_amount=600,
            status="accepted",
            payment_status="paid",
            kessai_payment_id=f"pay_race{round_}",
        )
        refund = RefundRequest.objects.create(
            application=application,
            amount=300,
            reason="overpaid",
            requested_by=StaffAccount.objects.get(login_id="staff-shimin"),
        )
        approvers = [
            StaffAccount.objects.get(login_id=login) for login in ("reviewer-mayor", "admin-mayor")
        ]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=approve, args=(barrier, outcomes, s, refund.pk))
            for s in approvers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["approved", "refused"]
        refund.refresh_from_db()
        assert refund.status == "approved"
        assert application.events.filter(type="refund_approved").count() == 1
    sends = DBTaskResult.objects.filter(task_path__endswith="tasks.send_refund")
    assert sends.count() == 5
