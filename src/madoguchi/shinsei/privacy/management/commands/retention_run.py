from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from madoguchi.shinsei.privacy.services import retention_due, retention_sweep

ACTIONS = {"delete": "削除", "anonymise": "匿名化", "held": "法的保留のため保存"}


class Command(BaseCommand):
    help = (
        "Apply every procedure's retention (保存期間) now, as the daily sweep does, and "
        "print the report; --dry-run lists what would go and changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be deleted, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        due = retention_due()
        for item in due:
            self.stdout.write(
                f"{item.agency}\t{item.procedure}\t{item.reference}\t{ACTIONS[item.action]}"
                f"\t(ended before {timezone.localtime(item.cutoff):%Y-%m-%d})"
            )
        if options["dry_run"]:
            self.stdout.write(f"dry run: {len(due)} application(s) due, nothing changed")
            return
        report = retention_sweep(performed_by="command:retention_run")
        self.stdout.write(
            f"retention report {report.pk}: {report.deleted} deleted, "
            f"{report.anonymised} anonymised, {len(report.held)} held"
        )
