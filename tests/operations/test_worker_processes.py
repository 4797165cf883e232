"""The real worker and scheduler processes on PostgreSQL: they survive a
database that refuses connections for a while (a failover: ``ALTER DATABASE
… ALLOW_CONNECTIONS false``) and SIGTERM lets the running task finish
(issue #9 item 15, issue #11 item 8). SQLite has no refused connections and
the test database lives in memory there, so these run on PostgreSQL only."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from madoguchi.platform.health import readiness
from madoguchi.platform.models import Heartbeat
from tests.support.tasks import record, slow

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="refused connections need PostgreSQL"
    ),
]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def admin(sql: str) -> None:
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql.encode())


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def run(command: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "MADOGUCHI_TEST_DATABASE_URL": database_url(),
            "PYTHONPATH": str(ROOT),
        }
        log = open(tmp_path / f"{command}.log", "wb")  # noqa: SIM115
        options = ["--interval", "0.2"] if command == "worker" else []
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "django", command, *options],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        processes.append(process)
        return process

    yield run
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def finished(result_id: str) -> bool:
    return DBTaskResult.objects.filter(pk=result_id, status=TaskResultStatus.SUCCESSFUL).exists()


def test_worker_and_scheduler_back_off_while_the_database_refuses_connections(
    start: Callable[[str], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    worker, scheduler = start("worker"), start("scheduler")
    wait_for(lambda: Heartbeat.objects.filter(kind="worker").exists(), 60, "the worker")
    wait_for(lambda: Heartbeat.objects.filter(kind="scheduler").exists(), 60, "the scheduler")
    first = record.enqueue(value="before")
    wait_for(lambda: finished(first.id), 30, "a task before the outage")

    name = connection.settings_dict["NAME"]
    connection.close()
    admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608 - the test database's own name
        )
        # /readyz says so too, from a real refused connection.
        assert readiness() == {"database": "unreachable (OperationalError)", "cache": "ok"}
        time.sleep(6)  # several failed reconnections
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()
    finally:
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    after = record.enqueue(value="after")
    wait_for(lambda: finished(after.id), 60, "a task after the outage")
    assert "database unavailable" in (tmp_path / "worker.log").read_text()
    assert "database unavailable" in (tmp_path / "scheduler.log").read_text()
    for process in (worker, scheduler):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_sigterm_lets_the_running_task_finish(
    start: Callable[[str], subprocess.Popen[bytes]],
) -> None:
    worker = start("worker")
    wait_for(lambda: Heartbeat.objects.filter(kind="worker").exists(), 60, "the worker")
    result = slow.enqueue(seconds=3.0)
    wait_for(
        lambda: DBTaskResult.objects.filter(pk=result.id, status=TaskResultStatus.RUNNING).exists(),
        30,
        "the task to start",
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "finished"
