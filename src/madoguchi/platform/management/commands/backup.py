"""``madoguchi shinsei|kessai backup --output FILE``: database and files, one archive."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from madoguchi.platform.backup import backup_create


class Command(BaseCommand):
    help = "Write a consistent backup (database and uploaded files) to one archive (mode 0600)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, output: Path, **options: Any) -> None:
        manifest = backup_create(output=output, service=settings.MADOGUCHI_SERVICE)
        self.stdout.write(
            f"{manifest['service']} backed up to {output} "
            f"({manifest['database']['vendor']}, files: {manifest['files']})"
        )
