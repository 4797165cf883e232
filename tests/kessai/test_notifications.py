"""Notification delivery: signed, at least once, retried with back-off."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.contract.signing import verify
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services, tasks
from madoguchi.kessai.payments.models import Notification, Payment
from madoguchi.platform.tasks import BACKOFF_SECONDS
from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.procedures.models import Procedure
from tests.support.outage import host_down


@pytest.fixture
def notification(demo: dict[str, Any]) -> Notification:
    merchant = Merchant.objects.get(code="mayor")
    payment = services.payment_create(
        merchant=merchant,
        request=schemas.PaymentCreateRequest(
            reference="300000000001", amount=300, return_url="http://shinsei.test/back"
        ),
    )
    # The receiving side knows this payment (Shinsei refuses unknown ones).
    Application.objects.create(
        procedure=Procedure.objects.get(slug="juminhyo"),
        reference=payment.reference,
        inquiry_password="x",
        answers_sealed=b"",
        fee_amount=300,
        status="accepted",
        payment_status="unpaid",
        kessai_payment_id=payment.public_id,
    )
    return services.notification_enqueue(
        payment=payment, event_type=schemas.EventType.PAYMENT_EXPIRED
    )


def test_event_body_carries_reference_method_and_dates_only(notification: Notification) -> None:
    event = json.loads(notification.body)
    assert set(event) == {"id", "type", "created", "data"}
    assert set(event["data"]["payment"]) == {
        "id",
        "reference",
        "amount",
        "status",
        "method",
        "paid_at",
        "due_at",
        "created_at",
        "updated_at",
        "refunded_amount",
        "refundable_amount",
        "next_url",
    }
    assert event["data"]["refund"] is None


def test_receiver_down_retries_with_backoff_and_logs_each_try(
    notification: Notification, run_tasks: Any
) -> None:
    with host_down("shinsei.test"):
        run_tasks()
    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.attempts == 1
    expected = timezone.now() + timedelta(seconds=BACKOFF_SECONDS[0])
    assert abs((notification.next_attempt_at - expected).total_seconds()) < 5
    delivery = notification.deliveries.get()
    assert (delivery.response_status, delivery.error) == (None, "ConnectError")
    # The retry is queued for later, not now.
    assert run_tasks() == 0
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    assert run_tasks() == 1
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert notification.attempts == 2
    assert [d.response_status for d in notification.deliveries.all()] == [None, 200]


def test_delivery_is_signed_with_the_merchants_secret(
    notification: Notification, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    from tests.support import transport

    original = transport.InProcessTransport.handle_request

    def spy(self: Any, request: Any) -> Any:
        seen["signature"] = request.headers["Kessai-Signature"]
        seen["body"] = request.content
        return original(self, request)

    monkeypatch.setattr(transport.InProcessTransport, "handle_request", spy)
    assert tasks.notification_deliver(notification.pk) is True
    secret = Merchant.objects.get(code="mayor").notification_secret
    assert verify(seen["signature"], seen["body"], [secret]) > 0
    assert seen["body"] == notification.body.encode()


def test_a_delivered_notification_is_not_sent_again(notification: Notification) -> None:
    assert tasks.notification_deliver(notification.pk) is True
    assert tasks.notification_deliver(notification.pk) is False
    assert notification.deliveries.count() == 1


def test_lease_keeps_a_second_worker_away(notification: Notification) -> None:
    claimed = tasks._claim(notification.pk)
    assert claimed is not None
    assert tasks._claim(notification.pk) is None


def test_schedule_is_spent_then_gives_up(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(attempts=len(BACKOFF_SECONDS))
    with host_down("shinsei.test"):
        assert tasks.notification_deliver(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == "gave_up"


def test_backoff_spans_days() -> None:
    assert sum(BACKOFF_SECONDS) >= 3 * 24 * 3600


def test_sweep_requeues_a_notification_whose_task_was_lost(
    notification: Notification, run_tasks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the crash lost the task row
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )
    tasks.notifications_sweep()
    assert run_tasks() == 1
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert Payment.objects.count() == 1
