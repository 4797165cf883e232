"""Console account operations (writes)."""

from django.db import transaction

from madoguchi.platform.accounts import account_expire_password
from madoguchi.platform.audit.services import audit_record

from .models import ConsoleAccount


def console_account_transfer(
    *, account: ConsoleAccount, actor: str, role: str | None = None, leave: bool = False
) -> int:
    """異動: change the person's role, or disable the account when they leave
    the office; either way the password expires at once and every session
    ends. Returns the number of sessions ended."""
    if (role is None) == (not leave):
        raise ValueError("give either a role or leave=True")
    with transaction.atomic():
        if role is not None:
            if role not in ConsoleAccount.Role.values:
                raise ValueError(f"unknown role {role!r}")
            previous = account.role
            ConsoleAccount.objects.filter(pk=account.pk).update(role=role)
            account.role = role
            audit_record(
                actor=actor,
                event="account.role_change",
                resource=account.account_key,
                detail={"from": previous, "to": role},
            )
        return account_expire_password(
            account=account, actor=actor, reason="leave" if leave else "transfer", disable=leave
        )
