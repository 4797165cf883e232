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


def expired_notification(reference: str, payment_status: str = "unpaid") -> Notification:
    """A payment.expired notification, queued, for an application Shinsei
    has. Its payment is still ``created``: on an application whose payment is
    ``preparing``, applying it makes that unpaid and queues the acceptance
    email (what ``shinsei_applied`` counts)."""
    merchant = Merchant.objects.get(code="mayor")
    payment = services.payment_create(
        merchant=merchant,
        request=schemas.PaymentCreateRequest(
            reference=reference, amount=300, return_url="http://shinsei.test/back"
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
        payment_status=payment_status,
        kessai_payment_id=payment.public_id,
    )
    return services.notification_enqueue(
        payment=payment, event_type=schemas.EventType.PAYMENT_EXPIRED
    )


@pytest.fixture
def notification(demo: dict[str, Any]) -> Notification:
    return expired_notification("300000000001")


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


def shinsei_applied(notification: Notification) -> int:
    """How many times Shinsei applied this notification to its application."""
    application = Application.objects.get(kessai_payment_id=notification.payment.public_id)
    assert application.payment_status == "unpaid"
    return application.mails.filter(kind="accepted").count()


def test_a_worker_lost_mid_batch_loses_nothing_and_applies_nothing_twice(
    demo: dict[str, Any], run_tasks: Any
) -> None:
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from madoguchi.platform.models import Heartbeat
    from madoguchi.platform.worker import tasks_claim, tasks_recover

    notifications = [expired_notification(f"30000000001{n}", "preparing") for n in range(3)]
    claimed = tasks_claim(worker_id="worker-lost", limit=10)
    assert len(claimed) == 3
    runner = Worker(
        queue_names=["*"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="worker-lost", excluded_queue_names=[],
    )  # fmt: skip
    runner.run_task(claimed[0])  # delivered
    with host_down("shinsei.test"):
        runner.run_task(claimed[1])  # the POST fails: retried later
    # The worker dies before the third: its row stays RUNNING, then its
    # heartbeat goes stale and the sweep enqueues it again.
    seen = timezone.now() - timedelta(minutes=5)
    Heartbeat.objects.create(name="worker-lost", kind="worker", started_at=seen, seen_at=seen)
    DBTaskResult.objects.filter(pk=claimed[2].pk).update(started_at=seen)
    assert tasks_recover() == 1
    run_tasks()
    # The failed one's retry comes due.
    Notification.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    run_tasks()

    outcomes = []
    for notification in notifications:
        notification.refresh_from_db()
        assert notification.status == "delivered"
        assert shinsei_applied(notification) == 1
        outcomes.append([d.response_status for d in notification.deliveries.all()])
    assert outcomes == [[200], [None, 200], [200]]


def test_a_delivery_lost_after_the_post_is_sent_again_byte_identical_and_applied_once(
    demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import transport

    notification = expired_notification("300000000021", "preparing")
    bodies: list[bytes] = []
    original = transport.InProcessTransport.handle_request

    def spy(self: Any, request: Any) -> Any:
        bodies.append(request.content)
        return original(self, request)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the worker died before recording the delivery")

    monkeypatch.setattr(transport.InProcessTransport, "handle_request", spy)
    monkeypatch.setattr(tasks, "_record_delivered", crash)
    with pytest.raises(RuntimeError):
        tasks.notification_deliver(notification.pk)
    monkeypatch.undo()
    monkeypatch.setattr(transport.InProcessTransport, "handle_request", spy)
    # Shinsei has applied it; Kessai does not know: still pending, leased.
    assert shinsei_applied(notification) == 1
    assert tasks.notification_deliver(notification.pk) is False  # the lease holds
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    assert tasks.notification_deliver(notification.pk) is True

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("delivered", 1)
    assert len(bodies) == 2
    assert bodies[0] == bodies[1] == notification.body.encode()
    assert shinsei_applied(notification) == 1  # the event id was seen before
