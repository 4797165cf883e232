from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; lists every edited or deleted record."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify_chain()
        checked = AuditRecord.objects.count()
        for problem in problems:
            self.stdout.write(f"record {problem.record_id}: {problem.problem}")
        if problems:
            raise CommandError(f"audit log: {len(problems)} problem(s) in {checked} records")
        self.stdout.write(f"audit log intact: {checked} records")
