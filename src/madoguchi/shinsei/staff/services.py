"""Staff account operations (writes)."""

from django.db import transaction

from madoguchi.platform.accounts import account_expire_password
from madoguchi.platform.audit.services import audit_record
from madoguchi.shinsei.procedures.models import Department

from .models import StaffAccount


def staff_transfer(
    *, account: StaffAccount, actor: str, department: Department | None = None, leave: bool = False
) -> int:
    """異動: move the person to ``department``, or disable the account when
    they leave; either way the password expires at once and every session
    ends (seed 2(6)ア(イ)). Returns the number of sessions ended."""
    if (department is None) == (not leave):
        raise ValueError("give either a department or leave=True")
    with transaction.atomic():
        if department is not None:
            previous = account.department
            StaffAccount.objects.filter(pk=account.pk).update(department=department)
            account.department = department
            audit_record(
                actor=actor,
                event="account.transfer",
                resource=account.account_key,
                detail={"from": previous.code, "to": department.code},
            )
        return account_expire_password(
            account=account, actor=actor, reason="leave" if leave else "transfer", disable=leave
        )
