"""Task worker: runs queued tasks until stopped (the scheduler enqueues the sweeps)."""

import socket
import uuid
from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.platform.worker import worker_run


class Command(BaseCommand):
    help = "Run queued tasks until SIGTERM/SIGINT (the current task finishes first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.5)
        parser.add_argument(
            "--threads", type=int, default=None, help="tasks at once (default: 4 on PostgreSQL)"
        )

    def handle(self, *args: Any, interval: float, threads: int | None, **options: Any) -> None:
        worker_id = f"worker-{socket.gethostname()[:30]}-{uuid.uuid4().hex[:12]}"
        worker_run(worker_id=worker_id, interval=interval, threads=threads)
