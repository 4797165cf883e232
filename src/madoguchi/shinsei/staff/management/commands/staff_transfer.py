from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.shinsei.procedures.models import Department
from madoguchi.shinsei.staff.models import StaffAccount
from madoguchi.shinsei.staff.services import staff_transfer


class Command(BaseCommand):
    help = "異動: move a staff account to another department, or disable it (--leave)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login_id")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--department", help="code of the new department")
        group.add_argument("--leave", action="store_true", help="the person leaves: disable")

    def handle(self, *args: Any, **options: Any) -> None:
        account = StaffAccount.objects.filter(login_id=options["login_id"]).first()
        if account is None:
            raise CommandError(f"no staff account {options['login_id']!r}")
        department = None
        if options["department"]:
            department = Department.objects.filter(code=options["department"]).first()
            if department is None:
                raise CommandError(f"no department {options['department']!r}")
        ended = staff_transfer(
            account=account,
            actor="system:staff_transfer",
            department=department,
            leave=options["leave"],
        )
        self.stdout.write(
            f"{account.login_id}: password expired, {ended} session(s) ended"
            + (", account disabled" if options["leave"] else f", now in {department}")
        )
