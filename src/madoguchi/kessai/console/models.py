from django.db import models

from madoguchi.platform.accounts import AbstractAccount, AccountManager


class ConsoleAccount(AbstractAccount):
    """A payment administrator of the digital-promotion office (デジタル推進担当)."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "管理者"
        VIEWER = "viewer", "閲覧者"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    objects = AccountManager["ConsoleAccount"]()

    account_kind = "console"
    auth_backend = "madoguchi.kessai.console.backends.ConsoleBackend"

    def session_binding(self) -> str:
        # A change of role ends every session.
        return self.role

    def totp_required(self) -> bool:
        # Always: payment administrators use a second factor (PCI DSS 8.4).
        return True

    class Meta:
        db_table = "kessai_console_account"
