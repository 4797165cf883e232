"""Task helpers on top of ``django.tasks`` with the django-tasks-db backend.

Tasks are enqueued inside the transaction that makes them necessary (the task
row commits or rolls back with the state change), and every task is written to
be safe to run twice. Retries are scheduled by the task itself; a periodic
sweep, driven by the domain state rather than by task rows, re-enqueues work a
crash might have dropped.
"""

import logging
from datetime import timedelta
from typing import Any

from django.tasks import Task
from django.utils import timezone

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
