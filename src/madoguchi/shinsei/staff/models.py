from django.db import models

from madoguchi.platform.accounts import AbstractAccount
from madoguchi.shinsei.procedures.models import Department


class StaffAccount(AbstractAccount):
    """An appointed staff member of one department (手続所管課の担当者)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")

    account_kind = "staff"

    def totp_required(self) -> bool:
        # Per agency (実施機関): each decides whether its staff need a second factor.
        return self.department.agency.staff_totp_required

    class Meta:
        db_table = "shinsei_staff_account"
