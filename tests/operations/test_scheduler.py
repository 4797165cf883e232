"""The scheduler enqueues sweeps as ordinary tasks, once per run however many
schedulers there are; a sweep never overlaps itself (issue #11 item 4)."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from madoguchi.platform import worker
from madoguchi.platform.models import ScheduledJob
from madoguchi.platform.worker import run_ready_tasks, run_sweep, schedule_due

SWEEP = "tests.operations.test_scheduler.counting_sweep"
CALLS: list[str] = []


def counting_sweep() -> None:
    CALLS.append("ran")


@pytest.fixture(autouse=True)
def _jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    CALLS.clear()
    monkeypatch.setattr(worker, "periodic_jobs", lambda: [(SWEEP, 60.0)])


def queued() -> int:
    return DBTaskResult.objects.filter(
        task_path="madoguchi.platform.worker.run_sweep", status=TaskResultStatus.READY
    ).count()


@pytest.mark.django_db
def test_a_due_sweep_is_enqueued_once_then_waits_for_its_interval() -> None:
    assert schedule_due() == [SWEEP]
    assert schedule_due() == []  # a second scheduler, or the next tick
    assert queued() == 1
    ScheduledJob.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert schedule_due() == [SWEEP]
    assert queued() == 2


@pytest.mark.django_db
def test_the_worker_runs_the_sweep_and_records_it() -> None:
    schedule_due()
    assert run_ready_tasks() == 1
    assert CALLS == ["ran"]
    job = ScheduledJob.objects.get(name=SWEEP)
    assert job.last_ok is True
    assert job.lease_until is None
    assert job.last_duration_ms is not None


@pytest.mark.django_db
def test_a_sweep_whose_lease_is_held_does_not_run_again() -> None:
    schedule_due()
    ScheduledJob.objects.update(lease_until=timezone.now() + timedelta(minutes=5))
    assert run_sweep.call(name=SWEEP) is False
    assert CALLS == []
    # A lease left by a killed worker runs out.
    ScheduledJob.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert run_sweep.call(name=SWEEP) is True
    assert CALLS == ["ran"]


@pytest.mark.django_db
def test_only_configured_sweeps_run() -> None:
    assert run_sweep.call(name="os.system") is False


@pytest.mark.django_db
def test_a_failing_sweep_is_recorded_and_releases_its_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise ValueError("boom")

    monkeypatch.setattr(f"{__name__}.counting_sweep", broken)
    schedule_due()
    assert run_sweep.call(name=SWEEP) is False
    job = ScheduledJob.objects.get(name=SWEEP)
    assert (job.last_ok, job.last_error, job.lease_until) == (False, "ValueError", None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_concurrent_schedulers_enqueue_each_run_once() -> None:
    ScheduledJob.objects.create(name=SWEEP, next_run_at=timezone.now() - timedelta(seconds=1))
    for _ in range(5):
        results = race_schedulers(4)
        assert sorted(len(r) for r in results) == [0, 0, 0, 1]
        ScheduledJob.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert queued() == 5


def race_schedulers(count: int) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = []

    def scheduler() -> None:
        try:
            barrier.wait()
            results.append(schedule_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
