"""Task helpers on top of ``django.tasks`` with the django-tasks-db backend.

Tasks are enqueued inside the transaction that makes them necessary (the task
row commits or rolls back with the state change), and every task is written to
be safe to run twice. Retries are scheduled by the task itself; a periodic
sweep, driven by the domain state rather than by task rows, re-enqueues work a
crash might have dropped.
"""

import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Seconds until the next try: quick at first, then spread over three days.
BACKOFF_SECONDS: tuple[int, ...] = (
    5,
    15,
    60,
    300,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    24 * 3600,
    24 * 3600,
    24 * 3600,
)


def backoff_delay(attempt: int) -> timedelta | None:
    """Delay before try number ``attempt + 1``; None when the schedule is spent."""
    if attempt >= len(BACKOFF_SECONDS):
        return None
    return timedelta(seconds=BACKOFF_SECONDS[attempt])


def enqueue_later(task: Task[Any, Any], delay: timedelta, *args: Any, **kwargs: Any) -> None:
    task.using(run_after=timezone.now() + delay).enqueue(*args, **kwargs)


# Sweeps every service runs whatever its own MADOGUCHI_PERIODIC says (rate
# limits and lockouts expire in the cache by themselves: nothing to sweep).
PLATFORM_PERIODIC: list[tuple[str, float]] = [
    # Expired sessions may hold a citizen's unfinished answers (docs/privacy.md).
    ("madoguchi.platform.sessions.store.sessions_sweep", 900.0),
]


def run_periodic(last_run: dict[str, float], now: float | None = None) -> None:
    """Run each ``MADOGUCHI_PERIODIC`` callable whose interval has passed."""
    now = time.monotonic() if now is None else now
    jobs = [*PLATFORM_PERIODIC, *getattr(settings, "MADOGUCHI_PERIODIC", [])]
    for path, interval in jobs:
        if now - last_run.get(path, float("-inf")) < interval:
            continue
        last_run[path] = now
        try:
            import_string(path)()
        except Exception:
            logger.exception("periodic job %s failed", path)


def make_task_runner(worker_id: str) -> Any:
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def claim_next_task(worker_id: str, *, paths: Iterable[str] | None = None) -> Any:
    """Lock and claim the next ready task row, or return None."""
    from django.db.utils import OperationalError
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

    queryset = DBTaskResult.objects.ready().order_by("-priority", "run_after", "enqueued_at")
    if paths is not None:
        queryset = queryset.filter(task_path__in=list(paths))
    try:
        with exclusive_transaction(queryset.db):
            result = queryset.get_locked()
            if result is not None:
                result.claim(worker_id)
            return result
    except OperationalError as exc:
        if is_locked_database_exception(exc):
            return None
        raise


def run_ready_tasks(*, paths: Iterable[str] | None = None, limit: int = 100) -> int:
    """Run every task that is ready now, in this process; return how many ran.

    Tests use it: the same claim-and-run path as the worker, without its loop.
    """
    runner = make_task_runner("inline")
    for ran in range(limit):
        result = claim_next_task(runner.worker_id, paths=paths)
        if result is None:
            return ran
        runner.run_task(result)
    return limit
