"""Console test helpers: logged-in administrator and viewer, and payments
that succeed at a chosen moment through the real ``attempt_finish``."""

import datetime
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Payment
from madoguchi.kessai.providers.base import ProviderResult
from tests.conftest import login
from tests.support.otp import totp_enrol

PASSWORD = "console-pass-1234"


def console_client(login_id: str, role: str) -> Client:
    """A console account of ``role`` that has chosen its password and set up
    TOTP, logged in through the real pages (second factor answered)."""
    account = ConsoleAccount(
        login_id=login_id,
        display_name=f"{login_id}さん",
        role=role,
        must_change_password=False,
    )
    account.set_password(PASSWORD)
    account.save()
    totp_enrol(account)
    # An office terminal: inside the console allowlist, not the default 127.0.0.1.
    client = Client(HTTP_HOST="console.kessai.test", REMOTE_ADDR="127.0.2.3")
    login(client, login_id, PASSWORD)
    return client


@pytest.fixture
def admin(db: None) -> Client:
    return console_client("admin1", ConsoleAccount.Role.ADMINISTRATOR)


@pytest.fixture
def viewer(db: None) -> Client:
    return console_client("viewer1", ConsoleAccount.Role.VIEWER)


_counter = iter(range(10**9))


def make_payment(merchant: Merchant, amount: int, reference: str | None = None) -> Payment:
    return services.payment_create(
        merchant=merchant,
        request=schemas.PaymentCreateRequest(
            reference=reference or f"REF-{next(_counter):08d}",
            amount=amount,
            return_url="http://shinsei.test/back",
        ),
    )


def succeed_at(payment: Payment, at: datetime.datetime, method: str = "card") -> Payment:
    """The provider reports success at ``at``: the real service does the rest
    (status, event, notification and the daily summary in one transaction)."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        attempt = Attempt.objects.create(payment=payment, method=method)
        services.attempt_finish(attempt=attempt, result=ProviderResult(succeeded=True))
    payment.refresh_from_db()
    return payment


@pytest.fixture
def merchants(demo: dict[str, Any]) -> list[Merchant]:
    """市長 and 農業委員会 (the demo's SBPS customer has its own tests)."""
    return list(Merchant.objects.filter(code__in=["mayor", "agri-committee"]).order_by("pk"))
