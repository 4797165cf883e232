"""``madoguchi shinsei|kessai restore --input FILE --yes``: replaces the
service's database and files with the archive's. Stop the service first."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from madoguchi.platform.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup over the service's database and files (stop its processes first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--input", required=True, type=Path)
        parser.add_argument("--yes", action="store_true", help="really replace the current data")

    def handle(self, *args: Any, input: Path, yes: bool, **options: Any) -> None:
        if not yes:
            raise CommandError("restore replaces every row and file of the service: add --yes")
        try:
            manifest = backup_restore(archive_path=input, service=settings.MADOGUCHI_SERVICE)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{manifest['service']} restored from {input} (made {manifest['created_at']})"
        )
        # The restore drill ends with the audit chain checked.
        call_command("verify", stdout=self.stdout)
