from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from madoguchi.kessai.history.models import ContractEnd, PaymentHistory
from madoguchi.kessai.merchants.lifecycle import history_purge_due


class Command(BaseCommand):
    help = (
        "Delete now, as the hourly sweep does, the payment history of every ended "
        "contract whose retention has passed; --dry-run lists it and changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be deleted, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        due = ContractEnd.objects.filter(
            retain_until__lte=timezone.now(), purged_at__isnull=True
        ).order_by("retain_until")
        for contract in due:
            rows = PaymentHistory.objects.filter(contract_end=contract).count()
            until = timezone.localtime(contract.retain_until)
            self.stdout.write(
                f"{contract.merchant_code}\t{contract.merchant_name}\tretained until "
                f"{until:%Y-%m-%d}\t{rows} payment(s) of history"
            )
        if options["dry_run"]:
            self.stdout.write(f"dry run: {len(due)} ended contract(s) due, nothing changed")
            return
        reports = history_purge_due()
        self.stdout.write(f"{len(reports)} deletion report(s) written")
