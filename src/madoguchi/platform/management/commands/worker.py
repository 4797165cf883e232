"""Task worker: runs queued tasks (django-tasks-db rows) and the periodic sweeps."""

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from madoguchi.platform.tasks import claim_next_task, make_task_runner, run_periodic


class Command(BaseCommand):
    help = "Run queued tasks and the periodic sweeps until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.5)

    def handle(self, *args: Any, interval: float, **options: Any) -> None:
        runner = make_task_runner(f"worker-{time.time_ns()}")
        running = True

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal running
            running = False

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        last_periodic: dict[str, float] = {}
        while running:
            close_old_connections()
            result = claim_next_task(runner.worker_id)
            if result is not None:
                runner.run_task(result)
            close_old_connections()
            run_periodic(last_periodic)
            if result is None and running:
                time.sleep(interval)
