from typing import ClassVar

from django.contrib.auth.models import Group, Permission
from django.db import models

from madoguchi.platform.accounts import AbstractAccount, AccountManager
from madoguchi.platform.otp import (
    AbstractRecoveryDevice,
    AbstractRecoveryToken,
    AbstractTOTPDevice,
)


# (The devices' manager is django-otp's, which has no type stubs.)
class ConsoleAccount(AbstractAccount):  # type: ignore[django-manager-missing]
    """A payment administrator of the digital-promotion office (デジタル推進担当)."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", "管理者"
        VIEWER = "viewer", "閲覧者"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    # PermissionsMixin's, with accessors of their own on Group and Permission:
    # Django's default (``user_set``) is Shinsei's staff wherever both
    # services share a process (the combined tests).
    # (The stubs type PermissionsMixin's accessors as Django's defaults.)
    groups = models.ManyToManyField(  # type: ignore[assignment]
        Group,
        verbose_name="groups",
        blank=True,
        related_name="console_accounts",
        related_query_name="console_account",
    )
    user_permissions = models.ManyToManyField(  # type: ignore[assignment]
        Permission,
        verbose_name="user permissions",
        blank=True,
        related_name="console_accounts",
        related_query_name="console_account",
    )

    objects = AccountManager["ConsoleAccount"]()

    account_kind = "console"
    auth_backend = "madoguchi.kessai.console.backends.ConsoleBackend"

    def session_binding(self) -> str:
        # A change of role ends every session.
        return self.role

    def totp_required(self) -> bool:
        # Always: payment administrators use a second factor (PCI DSS 8.4).
        return True

    # Which permissions each role's group holds (platform/roles.py).
    ROLE_PERMISSIONS: ClassVar[dict[str, list[str]]] = {
        Role.ADMINISTRATOR: ["administer"],
        Role.VIEWER: [],
    }

    class Meta:
        db_table = "kessai_console_account"
        permissions = [("administer", "加盟店・アカウント・手数料率・運用管理サイトの管理")]


# The second factor (platform/otp.py says why each service declares its own).


class ConsoleTOTPDevice(AbstractTOTPDevice):
    user = models.ForeignKey(ConsoleAccount, on_delete=models.CASCADE, related_name="totp_devices")

    class Meta(AbstractTOTPDevice.Meta):
        db_table = "kessai_console_totp_device"


class ConsoleRecoveryDevice(AbstractRecoveryDevice):
    user = models.ForeignKey(
        ConsoleAccount, on_delete=models.CASCADE, related_name="recovery_devices"
    )

    class Meta(AbstractRecoveryDevice.Meta):
        db_table = "kessai_console_recovery_device"


class ConsoleRecoveryToken(AbstractRecoveryToken):
    device = models.ForeignKey(
        ConsoleRecoveryDevice, on_delete=models.CASCADE, related_name="token_set"
    )

    class Meta:
        db_table = "kessai_console_recovery_token"
