from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.kessai.console.services import console_account_transfer


class Command(BaseCommand):
    help = "異動: change a console account's role, or disable it (--leave)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login_id")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--role", choices=ConsoleAccount.Role.values)
        group.add_argument("--leave", action="store_true", help="the person leaves: disable")

    def handle(self, *args: Any, **options: Any) -> None:
        account = ConsoleAccount.objects.filter(login_id=options["login_id"]).first()
        if account is None:
            raise CommandError(f"no console account {options['login_id']!r}")
        ended = console_account_transfer(
            account=account,
            actor="system:console_account_transfer",
            role=options["role"],
            leave=options["leave"],
        )
        self.stdout.write(f"{account.login_id}: password expired, {ended} session(s) ended")
