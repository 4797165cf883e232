from django.db import models

from madoguchi.platform.accounts import AbstractAccount
from madoguchi.shinsei.procedures.models import Department


class StaffAccount(AbstractAccount):
    """An appointed staff member of one department (手続所管課の担当者)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")

    account_kind = "staff"

    class Meta:
        db_table = "shinsei_staff_account"
