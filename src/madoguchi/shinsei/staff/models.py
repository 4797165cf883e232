from typing import ClassVar

from django.db import models

from madoguchi.platform.accounts import AbstractAccount, AccountManager
from madoguchi.platform.otp import (
    AbstractRecoveryDevice,
    AbstractRecoveryToken,
    AbstractTOTPDevice,
)
from madoguchi.shinsei.procedures.models import Department


# (The devices' manager is django-otp's, which has no type stubs.)
class StaffAccount(AbstractAccount):  # type: ignore[django-manager-missing]
    """An appointed staff member of one department (手続所管課の担当者)."""

    class Role(models.TextChoices):
        STAFF = "staff", "担当者（所属課）"
        REVIEWER = "reviewer", "審査者（実施機関全体）"
        ADMINISTRATOR = "administrator", "管理者（手続の管理）"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField("権限", max_length=16, choices=Role.choices, default=Role.STAFF)

    objects = AccountManager["StaffAccount"]()

    account_kind = "staff"
    auth_backend = "madoguchi.shinsei.staff.backends.StaffBackend"
    REQUIRED_FIELDS = ["display_name", "department"]

    def session_binding(self) -> str:
        # A transfer (異動) to another department or role ends every session.
        return f"{self.department_id}:{self.role}"

    def totp_required(self) -> bool:
        # Per agency (実施機関): each decides whether its staff need a second factor.
        return self.department.agency.staff_totp_required

    # Which permissions each role's group holds (platform/roles.py).
    ROLE_PERMISSIONS: ClassVar[dict[str, list[str]]] = {
        Role.STAFF: [],
        Role.REVIEWER: ["view_agency"],
        Role.ADMINISTRATOR: ["view_agency", "administer"],
    }

    class Meta:
        db_table = "shinsei_staff_account"
        permissions = [
            ("view_agency", "実施機関全体の申請を扱う"),
            ("administer", "手続・監査ログ・運用管理サイトの管理"),
        ]

    @property
    def agency_wide(self) -> bool:
        """Reviewers and administrators see every department of their agency."""
        return self.has_perm("shinsei_staff.view_agency")

    @property
    def is_administrator(self) -> bool:
        return self.has_perm("shinsei_staff.administer")


# The second factor (platform/otp.py says why each service declares its own).


class StaffTOTPDevice(AbstractTOTPDevice):
    user = models.ForeignKey(StaffAccount, on_delete=models.CASCADE, related_name="totp_devices")

    class Meta(AbstractTOTPDevice.Meta):
        db_table = "shinsei_staff_totp_device"


class StaffRecoveryDevice(AbstractRecoveryDevice):
    user = models.ForeignKey(
        StaffAccount, on_delete=models.CASCADE, related_name="recovery_devices"
    )

    class Meta(AbstractRecoveryDevice.Meta):
        db_table = "shinsei_staff_recovery_device"


class StaffRecoveryToken(AbstractRecoveryToken):
    device = models.ForeignKey(
        StaffRecoveryDevice, on_delete=models.CASCADE, related_name="token_set"
    )

    class Meta:
        db_table = "shinsei_staff_recovery_token"
