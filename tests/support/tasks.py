"""Tasks for the worker's own tests."""

import time

from django.tasks import task

RECORDED: list[str] = []


@task()
def record(value: str) -> str:
    RECORDED.append(value)
    return value


@task()
def slow(seconds: float) -> str:
    """Long enough to be interrupted (graceful shutdown test)."""
    time.sleep(seconds)
    return "finished"
