"""The reconcile sweep asks about several payments at once, so a slow Kessai
cannot hold a worker for minutes (issue #11 item 4)."""

import dataclasses
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from madoguchi.contract.schemas import PaymentStatus
from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.gateways.base import GatewayPayment
from tests.conftest import staff_client
from tests.support.journey import accept, submit_application

pytestmark = pytest.mark.django_db


def test_checks_run_concurrently_and_a_failure_spoils_no_other(
    demo: dict[str, Any],
    citizen: Client,
    run_tasks: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    staff = staff_client(demo, "shimin")
    for _ in range(4):
        application, _ = submit_application(citizen)
        accept(staff, application)
    run_tasks()
    settings.SHINSEI_RECONCILE_CONCURRENCY = 4
    # Each stand-in call waits until all four are in flight at once: run one
    # after another, the barrier breaks and every check fails.
    barrier = threading.Barrier(4, timeout=10)
    threads: set[int] = set()
    real = services._payment_fetch

    def slow_kessai(application: Application) -> Any:
        threads.add(threading.get_ident())
        barrier.wait()
        if application.pk == first_pk:
            raise httpx.ReadTimeout("slow Kessai")
        return answers[application.pk]

    applications = list(Application.objects.order_by("id"))
    first_pk = applications[0].pk
    answers: dict[int, GatewayPayment] = {}
    for application in applications:  # in this thread: the test's transaction
        current = real(application)
        assert current is not None
        answers[application.pk] = dataclasses.replace(
            current,
            status=PaymentStatus.SUCCEEDED,
            method="card",
            paid_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        )
    monkeypatch.setattr(services, "_payment_fetch", slow_kessai)

    assert services.payments_reconcile() == 3
    assert len(threads) == 4
    statuses = list(Application.objects.order_by("id").values_list("payment_status", flat=True))
    assert statuses == ["unpaid", "paid", "paid", "paid"]
