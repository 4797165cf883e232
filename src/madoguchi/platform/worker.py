"""The worker and scheduler processes of a service.

- The **worker** only runs tasks. Each round claims ready tasks from
  django-tasks-db's table a few at a time (``tasks_claim``: one locked read
  and one write for the lot, where the library's ``db_worker`` takes one row
  per transaction), runs each through the library's own ``run_task``, which
  records the outcome and sends its signals, and returns when none is ready.
  Between rounds it sleeps briefly; a thread refreshes its heartbeat every
  few seconds.
- When the database refuses connections (a failover, ``ALLOW_CONNECTIONS
  false``) a round fails with ``OperationalError``: the worker closes its
  connections, backs off (1 s doubling to 30 s) and tries again, and once back
  it re-enqueues any task it was running when the database went away.
- SIGTERM or SIGINT: the current task finishes (tasks are bounded by their
  outbound timeouts), the tasks claimed with it but not started go back to
  the queue, then the process exits; a second signal ends the task.
- The **scheduler** enqueues each periodic sweep as an ordinary task when its
  time has come (``schedule_due``); any number of schedulers may run, the
  conditional UPDATE on ``ScheduledJob.next_run_at`` lets one enqueue each run.
  The sweep task itself holds a lease on the row, so a slow run never
  overlaps the next.
"""

import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import suppress
from datetime import timedelta
from types import FrameType
from typing import Any

import structlog
from django.conf import settings
from django.core.management import call_command
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Heartbeat, ScheduledJob

logger = structlog.get_logger("madoguchi.worker")

HEARTBEAT_SECONDS = 10.0
# A task row RUNNING under a worker whose heartbeat is older than this was
# left by a worker that died: it is re-enqueued.
ORPHAN_AFTER = timedelta(seconds=90)
BACKOFF_MAX_SECONDS = 30.0
# How long a sweep may hold its lease before another run may start.
SWEEP_LEASE = timedelta(minutes=10)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
DATABASE_DOWN = (OperationalError, InterfaceError)

# Sweeps every service runs whatever its own MADOGUCHI_PERIODIC says.
PLATFORM_PERIODIC: list[tuple[str, float]] = [
    ("madoguchi.platform.worker.tasks_recover_sweep", 30.0),
    ("madoguchi.platform.worker.tasks_prune", 6 * 3600.0),
    ("madoguchi.platform.audit.services.audit_verify_sweep", 3600.0),
    # Expired sessions may hold a citizen's unfinished answers (docs/privacy.md).
    ("madoguchi.platform.sessions.store.sessions_sweep", 900.0),
]


class WorkerLost(Exception):
    """Recorded on a task row whose worker died while running it."""


def periodic_jobs() -> list[tuple[str, float]]:
    return [*PLATFORM_PERIODIC, *getattr(settings, "MADOGUCHI_PERIODIC", [])]


def close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        with suppress(*DATABASE_DOWN):
            connection.close()


# --- heartbeats -------------------------------------------------------------


def heartbeat_beat(*, name: str, kind: str, started_at: Any) -> None:
    Heartbeat.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "host": socket.gethostname()[:200],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


class HeartbeatThread(threading.Thread):
    """Beats every ``HEARTBEAT_SECONDS`` from its own database connection,
    through outages (it only logs them)."""

    def __init__(self, *, name: str, kind: str) -> None:
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self.beat_name, self.kind = name, kind
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def beat(self) -> None:
        try:
            heartbeat_beat(name=self.beat_name, kind=self.kind, started_at=self.started_at)
        except DATABASE_DOWN as exc:
            logger.warning("heartbeat failed", error=type(exc).__name__)
            close_connections()

    def run(self) -> None:
        try:
            while not self.stopping.wait(HEARTBEAT_SECONDS):
                self.beat()
        finally:
            close_connections()

    def stop(self) -> None:
        self.stopping.set()


class Backoff:
    """Waits 1 s, doubling to 30 s, while the database refuses connections."""

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping
        self.delay = 0.0

    def failed(self, exc: Exception) -> None:
        self.delay = min(max(self.delay * 2, 1.0), BACKOFF_MAX_SECONDS)
        logger.warning("database unavailable", error=type(exc).__name__, retry_in_s=self.delay)
        close_connections()
        self.stopping.wait(self.delay)

    def succeeded(self) -> None:
        if self.delay:
            logger.info("database back")
            self.delay = 0.0


def stop_event(*, second_exits: bool = False) -> threading.Event:
    """An event set by SIGINT, SIGTERM or SIGQUIT; with ``second_exits``, a
    second signal raises ``SystemExit`` wherever the process is (a task that
    does not end by itself is ended, and recorded as failed)."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if second_exits and stopping.is_set():
            raise SystemExit(1)
        stopping.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    return stopping


# --- running tasks ----------------------------------------------------------


# Tasks taken per claim. The claim's round trips and commit, and its walk
# through the index past rows other workers have just taken, are paid once
# per batch; small, so that a burst is still shared between the workers.
CLAIM_BATCH = 10


def tasks_claim(*, worker_id: str, limit: int = CLAIM_BATCH) -> list[Any]:
    """Take up to ``limit`` ready tasks, in the library's order (priority,
    then due time, then enqueue time), marked RUNNING under ``worker_id`` in
    one transaction, as the library's ``db_worker`` claims one: rows another
    worker holds are skipped, so no task is taken twice."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

    ready = DBTaskResult.objects.ready().filter(backend_name=DEFAULT_TASK_BACKEND_ALIAS)
    connection = connections[ready.db]
    try:
        with exclusive_transaction(ready.db):
            if connection.vendor == "postgresql":
                # A task table fills in bursts (a backlog of notifications)
                # long before autovacuum analyses it again: planned on stale
                # statistics the claim sorted every ready row (18 ms at 2 000
                # ready, growing with the queue) rather than walk the partial
                # index in its order (0.05 ms). Sorting is never the plan the
                # claim wants; SET LOCAL ends with this transaction.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL enable_sort = off")
            rows = list(ready.select_for_update(skip_locked=True)[:limit])
            now = timezone.now()
            for row in rows:
                row.status = TaskResultStatus.RUNNING
                row.started_at = now
                row.worker_ids = [*row.worker_ids, worker_id]
            _tasks_mark(rows)
    except OperationalError as exc:
        # SQLite's one write lock, held by someone else: nothing taken.
        if is_locked_database_exception(exc):
            return []
        raise
    return rows


def _tasks_mark(rows: list[Any]) -> None:
    """Write the rows' status and started_at (the same on every row of a
    claim) and worker_ids: one UPDATE per list of worker ids (nearly every
    row of a claim has the same), cheaper than bulk_update's CASE per row."""
    from django_tasks_db.models import DBTaskResult

    if not rows:
        return
    groups: dict[str, tuple[list[str], list[Any]]] = {}
    for row in rows:
        groups.setdefault(json.dumps(row.worker_ids), (row.worker_ids, []))[1].append(row.pk)
    for worker_ids, pks in groups.values():
        DBTaskResult.objects.filter(pk__in=pks).update(
            status=rows[0].status, started_at=rows[0].started_at, worker_ids=worker_ids
        )


def tasks_release(rows: list[Any]) -> None:
    """Put claimed tasks that were not started back in the queue, as they were."""
    for row in rows:
        row.status = TaskResultStatus.READY
        row.started_at = None
        row.worker_ids = row.worker_ids[:-1]
    _tasks_mark(rows)


# Tasks a worker runs at once on PostgreSQL. Most tasks wait on the network
# (a notification's POST, a call to Kessai) far longer than they compute:
# run one after another, a worker delivered at most 1/latency per second.
# Each thread has its own database connection (from the process's pool).
# SQLite has one writer: one task at a time there.
WORKER_THREADS = 4


def _task_run(runner: Any, row: Any, stopping: threading.Event | None) -> bool:
    """Run one claimed task; False if the worker is stopping (not started)."""
    if stopping is not None and stopping.is_set():
        return False
    if threading.current_thread() is threading.main_thread():
        runner.run_task(row)
        return True
    try:
        runner.run_task(row)
    finally:
        # Back to the process's pool (or closed): a pool thread keeps no
        # connection between tasks, so none outlives the worker or an outage.
        close_connections()
    return True


def run_ready_tasks(
    *,
    limit: int = 100,
    worker_id: str = "inline",
    stopping: threading.Event | None = None,
    claim: int = CLAIM_BATCH,
    pool: ThreadPoolExecutor | None = None,
) -> int:
    """Run the tasks that are ready now (at most ``limit``) and return how
    many ran; stop early once ``stopping`` is set. With ``pool``, a claimed
    batch runs in its threads; without, one after another in this thread
    (tests use it so, inside their transaction)."""
    from django_tasks_db.management.commands.db_worker import Worker

    # The library's worker, for its run_task alone: it runs the task and
    # records success or failure (with the traceback) on the row, and sends
    # task_started and task_finished, exactly as db_worker does.
    runner = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit and not (stopping and stopping.is_set()):
        close_old_connections()
        rows = tasks_claim(worker_id=worker_id, limit=min(claim, limit - ran))
        if not rows:
            break
        if pool is None:
            started = []
            for row in rows:
                if not _task_run(runner, row, stopping):
                    break
                started.append(row)
        else:
            futures = {row.pk: pool.submit(_task_run, runner, row, stopping) for row in rows}
            wait(futures.values())
            # A task's own failure is recorded on its row by run_task; what
            # comes out here is the database gone while recording it.
            for future in futures.values():
                future.result()
            started = [row for row in rows if futures[row.pk].result()]
        ran += len(started)
        if len(started) < len(rows):
            tasks_release([row for row in rows if row not in started])
            break
    return ran


def tasks_recover(*, worker_ids: list[str] | None = None) -> int:
    """Re-enqueue tasks left RUNNING by a worker that died (``worker_ids``
    None: any worker whose heartbeat is stale) or by these workers (which
    lost their database mid-task). The old row is marked failed with
    ``WorkerLost`` by a conditional UPDATE, so a task is recovered once."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    orphan_after = timedelta(
        seconds=getattr(settings, "MADOGUCHI_TASK_ORPHAN_SECONDS", ORPHAN_AFTER.total_seconds())
    )
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    if worker_ids is None:
        alive = set(
            Heartbeat.objects.filter(
                kind=Heartbeat.Kind.WORKER, seen_at__gte=now - orphan_after
            ).values_list("name", flat=True)
        )
        rows = [
            row
            for row in running.filter(started_at__lt=now - orphan_after)
            if not row.worker_ids or row.worker_ids[-1] not in alive
        ]
    else:
        rows = [row for row in running if row.worker_ids and row.worker_ids[-1] in worker_ids]
    recovered = 0
    for row in rows:
        with transaction.atomic():
            marked = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{__name__}.WorkerLost",
                traceback="The worker running this task was lost; it was enqueued again.",
            )
            if marked:
                row.task.enqueue(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
                recovered += 1
                logger.warning("task recovered", task=row.task_path, task_id=str(row.pk))
    return recovered


def tasks_recover_sweep() -> None:
    tasks_recover()
    # Heartbeats of workers gone for a day tell nothing any more.
    Heartbeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()


def tasks_prune() -> None:
    """Finished task rows older than a week go (the library's own command)."""
    call_command("prune_db_task_results", queue_name="*", min_age_days=7, verbosity=0)


def worker_run(
    *, worker_id: str, interval: float = 0.5, batch: int = 50, threads: int | None = None
) -> None:
    """The worker's loop, until SIGTERM/SIGINT. ``threads``: tasks run at
    once (default ``WORKER_THREADS`` on PostgreSQL, 1 elsewhere)."""
    stopping = stop_event(second_exits=True)
    structlog.contextvars.bind_contextvars(surface="worker", worker_id=worker_id)
    heartbeat = HeartbeatThread(name=worker_id, kind=Heartbeat.Kind.WORKER)
    heartbeat.beat()
    heartbeat.start()
    if threads is None:
        threads = WORKER_THREADS if connections["default"].vendor == "postgresql" else 1
    pool = ThreadPoolExecutor(threads, thread_name_prefix="task") if threads > 1 else None
    claim = max(CLAIM_BATCH, 2 * threads)
    logger.info("worker started", threads=threads)
    backoff = Backoff(stopping)
    forced = False
    try:
        while not stopping.is_set():
            try:
                if backoff.delay:
                    tasks_recover(worker_ids=[worker_id])
                ran = run_ready_tasks(
                    limit=batch, worker_id=worker_id, stopping=stopping, claim=claim, pool=pool
                )
            except SystemExit:
                forced = True  # a second signal
                break
            except DATABASE_DOWN as exc:
                backoff.failed(exc)
                continue
            backoff.succeeded()
            if ran < batch:
                stopping.wait(interval)
    finally:
        if pool is not None:
            pool.shutdown(wait=not forced, cancel_futures=True)
        heartbeat.stop()
        logger.info("worker stopped", forced=forced)
    if forced and pool is not None:
        # Tasks in the pool's threads cannot be interrupted: they end with
        # the process, their rows left RUNNING, and the recovery sweep runs
        # them again once this worker's heartbeat is stale (at least once).
        os._exit(1)


# --- the scheduler ----------------------------------------------------------


def schedule_due(jobs: list[tuple[str, float]] | None = None) -> list[str]:
    """Enqueue every periodic job whose time has come; returns their names.

    Safe with any number of schedulers: a job is enqueued only by the
    scheduler whose conditional UPDATE moved ``next_run_at`` forward, in the
    same transaction as the task row."""
    now = timezone.now()
    intervals = dict(periodic_jobs() if jobs is None else jobs)
    # A plain read first: on SQLite a write transaction every tick would
    # compete with the web processes for the one write lock.
    known = dict(ScheduledJob.objects.filter(name__in=intervals).values_list("name", "next_run_at"))
    for name in intervals.keys() - known.keys():
        ScheduledJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
        known[name] = now
    enqueued = []
    for name, next_run_at in known.items():
        if next_run_at > now:
            continue
        with transaction.atomic():
            claimed = ScheduledJob.objects.filter(name=name, next_run_at__lte=now).update(
                next_run_at=now + timedelta(seconds=intervals[name])
            )
            if claimed:
                run_sweep.enqueue(name=name)
                enqueued.append(name)
    return enqueued


def scheduler_run(*, tick: float = 1.0) -> None:
    """The scheduler's loop, until SIGTERM/SIGINT; backs off like the worker."""
    stopping = stop_event()
    name = f"scheduler-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    structlog.contextvars.bind_contextvars(surface="scheduler")
    heartbeat = HeartbeatThread(name=name, kind=Heartbeat.Kind.SCHEDULER)
    heartbeat.beat()
    heartbeat.start()
    logger.info("scheduler started", jobs=[job for job, _ in periodic_jobs()])
    backoff = Backoff(stopping)
    try:
        while not stopping.is_set():
            try:
                for job in schedule_due():
                    logger.info("sweep enqueued", sweep=job)
            except DATABASE_DOWN as exc:
                backoff.failed(exc)
                continue
            backoff.succeeded()
            stopping.wait(tick)
    finally:
        heartbeat.stop()
        logger.info("scheduler stopped")


def _sweep_lease(name: str, owner: str) -> bool:
    now = timezone.now()
    return bool(
        ScheduledJob.objects.filter(name=name)
        .exclude(lease_until__gt=now)
        .update(lease_until=now + SWEEP_LEASE, lease_owner=owner, last_started_at=now)
    )


@task(queue_name="sweeps", priority=-10)
def run_sweep(name: str) -> bool:
    """Run one periodic sweep under its lease; False if another run holds it
    (or the name is not a configured sweep)."""
    from . import metrics

    if name not in dict(periodic_jobs()):
        logger.error("unknown sweep", sweep=name)
        return False
    owner = uuid.uuid4().hex
    if not _sweep_lease(name, owner):
        logger.info("sweep already running", sweep=name)
        return False
    sweep: Callable[[], Any] = import_string(name)
    started = time.monotonic()
    error = ""
    try:
        sweep()
    except DATABASE_DOWN:
        raise  # the worker backs off; the lease runs out and the next run retries
    except Exception as exc:
        error = type(exc).__name__
        logger.exception("sweep failed", sweep=name)
    duration = time.monotonic() - started
    metrics.observe_sweep(name=name, seconds=duration, ok=not error)
    ScheduledJob.objects.filter(name=name, lease_owner=owner).update(
        lease_until=None,
        lease_owner="",
        last_finished_at=timezone.now(),
        last_duration_ms=int(duration * 1000),
        last_ok=not error,
        last_error=error,
    )
    return not error
