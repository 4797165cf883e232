from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.platform.accounts import account_totp_reset


class Command(BaseCommand):
    help = "Clear a console account's second factor (lost authenticator); set up anew at login."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login_id")

    def handle(self, *args: Any, **options: Any) -> None:
        account = ConsoleAccount.objects.filter(login_id=options["login_id"]).first()
        if account is None:
            raise CommandError(f"no console account {options['login_id']!r}")
        ended = account_totp_reset(account=account, actor="system:console_totp_reset")
        self.stdout.write(f"{account.login_id}: second factor cleared, {ended} session(s) ended")
