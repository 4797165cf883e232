"""Staff account operations (writes)."""

from django.db import transaction

from madoguchi.platform.accounts import account_expire_password
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.demo import generate_password
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


@transaction.atomic
def staff_account_create(
    *, login_id: str, display_name: str, department: Department, role: str, actor: str
) -> tuple[StaffAccount, str]:
    """An appointed staff member's account; the initial password is shown
    once and must be replaced at the first login."""
    if role not in StaffAccount.Role.values:
        raise ValueError(f"unknown role {role!r}")
    password = generate_password()
    account = StaffAccount(
        login_id=login_id, display_name=display_name, department=department, role=role
    )
    account.set_password(password)
    account.save()
    audit_record(
        actor=actor,
        event="account.create",
        resource=account.account_key,
        detail={"department": department.code, "role": role},
    )
    return account, password
