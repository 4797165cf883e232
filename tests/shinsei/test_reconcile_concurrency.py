"""The reconcile sweep asks Kessai about several payments at once, each call
bounded, so a slow Kessai cannot hold a worker for minutes (issue #11 item 4)."""

import threading
from typing import Any

import httpx
import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from madoguchi.contract.schemas import Payment
from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application
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
    answers = {a.pk: real(a) for a in applications}  # in this thread: the test's transaction
    for application in applications:
        answers[application.pk] = Payment.model_validate(
            {
                **answers[application.pk].model_dump(),
                "status": "succeeded",
                "method": "card",
                "paid_at": "2026-12-01T10:00:00+09:00",
            }
        )
    monkeypatch.setattr(services, "_payment_fetch", slow_kessai)

    assert services.payments_reconcile() == 3
    assert len(threads) == 4
    statuses = list(Application.objects.order_by("id").values_list("payment_status", flat=True))
    assert statuses == ["unpaid", "paid", "paid", "paid"]


def test_each_check_has_a_short_bound() -> None:
    assert services.RECONCILE_TIMEOUT.read == 5.0
    assert services.RECONCILE_TIMEOUT.connect == 2.0
