from django.db import models

from madoguchi.platform.accounts import AbstractAccount


class ConsoleAccount(AbstractAccount):
    """A payment administrator of the digital-promotion office (デジタル推進担当)."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "管理者"
        VIEWER = "viewer", "閲覧者"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    account_kind = "console"

    def totp_required(self) -> bool:
        # Always: payment administrators use a second factor (PCI DSS 8.4).
        return True

    class Meta:
        db_table = "kessai_console_account"
