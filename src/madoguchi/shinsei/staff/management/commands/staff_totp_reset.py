from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from madoguchi.platform.accounts import account_totp_reset
from madoguchi.shinsei.staff.models import StaffAccount


class Command(BaseCommand):
    help = "Clear a staff account's second factor (lost authenticator); set up anew at login."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login_id")

    def handle(self, *args: Any, **options: Any) -> None:
        account = StaffAccount.objects.filter(login_id=options["login_id"]).first()
        if account is None:
            raise CommandError(f"no staff account {options['login_id']!r}")
        ended = account_totp_reset(account=account, actor="system:staff_totp_reset")
        self.stdout.write(f"{account.login_id}: second factor cleared, {ended} session(s) ended")
