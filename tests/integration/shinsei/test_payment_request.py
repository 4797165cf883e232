"""Acceptance requests the payment through a task that survives Kessai being down."""

import contextlib
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from madoguchi.kessai.payments.models import Payment
from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application
from tests.conftest import staff_client
from tests.support.journey import accept, submit_application
from tests.support.outage import host_down


def _make_retries_due() -> None:
    from django.utils import timezone

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def test_kessai_down_at_acceptance_then_back(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    with host_down("kessai.test"):
        run_tasks()
        application.refresh_from_db()
        assert application.payment_status == "preparing"
        retry = DBTaskResult.objects.get(status="READY")
        first = DBTaskResult.objects.get(status="FAILED", task_path=retry.task_path)
        # The retry keeps the acceptance's request id, for the logs.
        request_id = first.args_kwargs["kwargs"]["request_id"]
        assert request_id
        assert retry.args_kwargs["kwargs"] == {
            "application_id": application.pk,
            "attempt": 1,
            "request_id": request_id,
        }
        _make_retries_due()
        run_tasks()
    assert Payment.objects.count() == 0
    _make_retries_due()
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    assert Payment.objects.count() == 1


def test_acceptance_rolls_back_with_its_task(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shiminzei")  # wrong department: refused
    from madoguchi.shinsei.staff.models import StaffAccount

    account = StaffAccount.objects.get(login_id="staff-shiminzei")
    with contextlib.suppress(services.InvalidTransition):
        services.application_accept(application=application, staff=account)
    assert not DBTaskResult.objects.filter(task_path__endswith=".request_payment").exists()
    assert staff.get("/").status_code == 200


def test_sending_twice_creates_one_payment(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    # A crash after Kessai answered but before we stored the id: send again.
    Application.objects.filter(pk=application.pk).update(
        kessai_payment_id="", payment_status="preparing"
    )
    assert services.payment_request_send(application_id=application.pk) is True
    application.refresh_from_db()
    assert Payment.objects.count() == 1
    assert application.kessai_payment_id == Payment.objects.get().public_id
    assert application.payment_status == "unpaid"


def test_expired_idempotency_key_adopts_the_live_payment(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    from madoguchi.kessai.payments.models import IdempotencyRecord

    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    IdempotencyRecord.objects.all().delete()  # the 24 h window has passed
    Application.objects.filter(pk=application.pk).update(
        kessai_payment_id="", payment_status="preparing"
    )
    services.payment_request_send(application_id=application.pk)
    application.refresh_from_db()
    assert Payment.objects.count() == 1
    assert application.kessai_payment_id == Payment.objects.get().public_id


def test_sweep_requeues_a_lost_payment_request(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    DBTaskResult.objects.all().delete()  # the task row was lost
    Application.objects.filter(pk=application.pk).update(
        payment_requested_at=timezone.now() - timedelta(minutes=10)
    )
    services.applications_sweep()
    services.applications_sweep()  # a second sweep right after adds nothing
    assert run_tasks() == 2  # the payment request, then the acceptance email
    assert DBTaskResult.objects.filter(task_path__endswith=".request_payment").count() == 1
    application.refresh_from_db()
    assert application.payment_status == "unpaid"


def test_a_payment_request_that_meets_an_outage_is_retried_in_seconds(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only HTTP errors: a dependency away for now (here the cache) is
    retried on the back-off schedule, not left to the stuck-request sweep."""
    from datetime import timedelta

    from django.utils import timezone

    from madoguchi.platform.cache import CacheUnavailable

    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)

    def away(**kwargs: Any) -> bool:
        raise CacheUnavailable("throttle")

    with monkeypatch.context() as patched:
        patched.setattr(services, "payment_request_send", away)
        run_tasks()
    retry = DBTaskResult.objects.get(status="READY", task_path__endswith=".request_payment")
    assert retry.args_kwargs["kwargs"]["attempt"] == 1
    assert retry.run_after is not None
    assert retry.run_after <= timezone.now() + timedelta(seconds=5)
    _make_retries_due()
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
