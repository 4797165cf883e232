from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.shinsei.procedures.models import Department
from madoguchi.shinsei.staff.models import StaffAccount
from madoguchi.shinsei.staff.services import staff_account_create


class Command(BaseCommand):
    help = (
        "Create a staff account in a department; prints the initial password once "
        "(the owner replaces it at the first login)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login_id")
        parser.add_argument("--name", required=True, help="the person's name (氏名)")
        parser.add_argument("--department", required=True, help="code of the department")
        parser.add_argument(
            "--role", choices=StaffAccount.Role.values, default=StaffAccount.Role.STAFF
        )

    def handle(self, *args: Any, **options: Any) -> None:
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            codes = ", ".join(Department.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"no department {options['department']!r} (there are: {codes})")
        if StaffAccount.objects.filter(login_id=options["login_id"]).exists():
            raise CommandError(f"a staff account {options['login_id']!r} exists already")
        account, password = staff_account_create(
            login_id=options["login_id"],
            display_name=options["name"],
            department=department,
            role=options["role"],
            actor="system:staff_account_create",
        )
        self.stdout.write(
            f"{account.login_id} ({account.get_role_display()}, {department.name}) created; "
            f"initial password (shown once): {password}"
        )
