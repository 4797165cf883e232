from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.kessai.console.services import console_account_create
from madoguchi.platform.audit.services import audit_record


class Command(BaseCommand):
    help = (
        "Create a payment administrator's console account; prints the initial password "
        "once (the owner replaces it and sets up TOTP at the first login)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login_id")
        parser.add_argument("--name", required=True, help="the person's name (氏名)")
        parser.add_argument(
            "--role", choices=ConsoleAccount.Role.values, default=ConsoleAccount.Role.VIEWER
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if ConsoleAccount.objects.filter(login_id=options["login_id"]).exists():
            raise CommandError(f"a console account {options['login_id']!r} exists already")
        with transaction.atomic():
            account, password = console_account_create(
                login_id=options["login_id"], display_name=options["name"], role=options["role"]
            )
            audit_record(
                actor="system:console_account_create",
                event="console_account.create",
                resource=account.account_key,
                detail={"role": account.role},
            )
        self.stdout.write(
            f"{account.login_id} ({account.get_role_display()}) created; "
            f"initial password (shown once): {password}"
        )
