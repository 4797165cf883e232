"""Console writes: accounts (creation, 異動) and fee rates. Merchant lifecycle
is in madoguchi.kessai.merchants.lifecycle."""

import datetime
from decimal import Decimal

from django.db import transaction

from madoguchi.kessai.statistics.models import FeeRate
from madoguchi.platform.accounts import account_expire_password
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.demo import generate_password

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


@transaction.atomic
def console_account_create(
    *, login_id: str, display_name: str, role: str
) -> tuple[ConsoleAccount, str]:
    """An account created by an administrator; the initial password is shown once."""
    password = generate_password()
    account = ConsoleAccount(login_id=login_id, display_name=display_name, role=role)
    account.set_password(password)
    account.save()
    return account, password


def fee_rate_create(
    *,
    method: str,
    effective_from: datetime.date,
    percent: Decimal,
    fixed_yen: int,
    created_by: str,
) -> FeeRate:
    return FeeRate.objects.create(
        method=method,
        effective_from=effective_from,
        percent=percent,
        fixed_yen=fixed_yen,
        created_by=created_by,
    )
