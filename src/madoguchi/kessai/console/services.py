"""Console writes that are not merchant lifecycle: accounts and fee rates."""

import datetime
from decimal import Decimal

from django.db import transaction

from madoguchi.kessai.statistics.models import FeeRate
from madoguchi.platform.demo import generate_password

from .models import ConsoleAccount


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
