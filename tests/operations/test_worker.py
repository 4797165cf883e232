"""Workers survive the database going away, and tasks a dead worker left
RUNNING are run again (issue #9 item 15)."""

import uuid
from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from madoguchi.platform.models import Heartbeat
from madoguchi.platform.worker import run_ready_tasks, tasks_recover
from tests.support.tasks import record

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
