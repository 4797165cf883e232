"""Workers survive the database going away, and tasks a dead worker left
RUNNING are run again (issue #9 item 15)."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django.tasks.signals import task_finished
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from madoguchi.platform.models import Heartbeat
from madoguchi.platform.worker import run_ready_tasks, tasks_claim, tasks_recover
from tests.support.tasks import RECORDED, record

pytestmark = pytest.mark.django_db


def claimed(worker_id: str, started: timedelta) -> DBTaskResult:
    result = record.enqueue(value="x")
    row = DBTaskResult.objects.get(pk=result.id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - started,
        worker_ids=[worker_id],
    )
    return row


def beat(name: str, age: timedelta) -> None:
    seen = timezone.now() - age
    Heartbeat.objects.create(name=name, kind="worker", started_at=seen, seen_at=seen)


def test_a_task_left_running_by_a_dead_worker_runs_again_once() -> None:
    beat("worker-dead", timedelta(minutes=5))
    row = claimed("worker-dead", timedelta(minutes=3))

    assert tasks_recover() == 1
    assert tasks_recover() == 0  # a second scheduler's sweep finds nothing

    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "madoguchi.platform.worker.WorkerLost"
    again = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert again.task_path == row.task_path
    assert again.args_kwargs == row.args_kwargs
    assert run_ready_tasks() == 1


def test_a_task_of_a_live_worker_is_left_alone() -> None:
    beat("worker-alive", timedelta(seconds=5))
    claimed("worker-alive", timedelta(minutes=30))
    assert tasks_recover() == 0


def test_a_worker_whose_database_went_away_recovers_its_own_task() -> None:
    me = f"worker-{uuid.uuid4().hex}"
    beat(me, timedelta(seconds=1))
    claimed(me, timedelta(seconds=1))
    claimed("worker-other", timedelta(seconds=1))
    assert tasks_recover(worker_ids=[me]) == 1


def test_a_claim_takes_ready_tasks_in_the_librarys_order_and_only_once() -> None:
    low = record.using(priority=-5).enqueue(value="low")
    first = record.enqueue(value="first")
    high = record.using(priority=5).enqueue(value="high")
    later = record.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(value="later")

    taken = tasks_claim(worker_id="worker-a", limit=2)

    assert [str(row.pk) for row in taken] == [high.id, first.id]
    for row in DBTaskResult.objects.filter(pk__in=[high.id, first.id]):
        assert row.status == TaskResultStatus.RUNNING
        assert row.worker_ids == ["worker-a"]
        assert row.started_at is not None
    # Another worker gets what is left and ready, never the same rows.
    assert [str(row.pk) for row in tasks_claim(worker_id="worker-b", limit=10)] == [low.id]
    assert tasks_claim(worker_id="worker-c", limit=10) == []
    assert DBTaskResult.objects.get(pk=later.id).status == TaskResultStatus.READY


def test_a_stopping_worker_runs_no_more_and_puts_the_rest_back() -> None:
    results = [record.enqueue(value=f"v{n}") for n in range(3)]
    stopping = threading.Event()

    def stop(**kwargs: Any) -> None:
        stopping.set()  # SIGTERM while the first task runs

    task_finished.connect(stop, weak=False)
    try:
        assert run_ready_tasks(worker_id="worker-a", stopping=stopping) == 1
    finally:
        task_finished.disconnect(stop)

    rows = {str(row.pk): row for row in DBTaskResult.objects.all()}
    assert rows[results[0].id].status == TaskResultStatus.SUCCESSFUL
    for result in results[1:]:
        row = rows[result.id]
        assert (row.status, row.started_at, row.worker_ids) == (TaskResultStatus.READY, None, [])
    # Another worker runs them, once each.
    assert run_ready_tasks(worker_id="worker-b") == 2
    assert run_ready_tasks(worker_id="worker-b") == 0
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 3


def test_a_round_claims_in_batches_until_the_queue_is_empty() -> None:
    for n in range(25):
        record.enqueue(value=f"v{n}")
    assert run_ready_tasks(worker_id="worker-a", claim=10) == 25
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {
        TaskResultStatus.SUCCESSFUL
    }
    # ``limit`` bounds a round: the rest waits for the next.
    for n in range(5):
        record.enqueue(value=f"w{n}")
    assert run_ready_tasks(worker_id="worker-a", limit=3, claim=10) == 3
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need their own connections to one database"
)
def test_a_worker_with_threads_runs_each_claimed_task_once() -> None:
    RECORDED.clear()
    for n in range(12):
        record.enqueue(value=f"v{n}")
    with ThreadPoolExecutor(4) as pool:
        assert run_ready_tasks(worker_id="worker-a", claim=8, pool=pool) == 12
        assert run_ready_tasks(worker_id="worker-a", claim=8, pool=pool) == 0
    assert sorted(RECORDED) == sorted(f"v{n}" for n in range(12))
    rows = DBTaskResult.objects.all()
    assert {row.status for row in rows} == {TaskResultStatus.SUCCESSFUL}
    assert {tuple(row.worker_ids) for row in rows} == {("worker-a",)}
