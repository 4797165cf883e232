"""Scheduler: enqueues the service's periodic sweeps as ordinary tasks."""

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.platform.worker import scheduler_run


class Command(BaseCommand):
    help = "Enqueue the periodic sweeps when due, until SIGTERM/SIGINT (safe to run twice)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tick", type=float, default=1.0)

    def handle(self, *args: Any, tick: float, **options: Any) -> None:
        scheduler_run(tick=tick)
