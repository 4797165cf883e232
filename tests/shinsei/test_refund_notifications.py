"""Shinsei applies Kessai's refund and cancel events monotonically."""

from typing import Any

from madoguchi.shinsei.applications.models import Application
from tests.shinsei.test_notifications import application, deliver, event_body

__all__ = ["application"]  # the fixture, shared with the notification tests


def test_full_refund_after_payment_marks_refunded(application: Application) -> None:
    deliver(event_body("succeeded", "evt_1"))
    assert deliver(event_body("refunded", "evt_2")).status_code == 200
    application.refresh_from_db()
    assert application.payment_status == "refunded"
    assert application.get_payment_status_display() == "返金済"


def test_refund_never_applies_to_an_unpaid_application(application: Application) -> None:
    deliver(event_body("refunded", "evt_1"))
    application.refresh_from_db()
    assert application.payment_status == "unpaid"


def test_late_success_does_not_undo_a_refund(application: Application) -> None:
    deliver(event_body("succeeded", "evt_1"))
    deliver(event_body("refunded", "evt_2"))
    deliver(event_body("succeeded", "evt_3"))  # an older event delivered late
    application.refresh_from_db()
    assert application.payment_status == "refunded"


def test_cancelled_payment_marks_cancelled(application: Application, demo: Any) -> None:
    deliver(event_body("cancelled", "evt_1"))
    application.refresh_from_db()
    assert application.payment_status == "cancelled"
