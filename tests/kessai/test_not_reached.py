"""A connection to a provider that never opened sent nothing: the attempt
fails at once and the citizen can try again; only an answer lost after the
request was sent leaves the attempt ``unknown`` (the janitor asks later)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import httpx
import pytest
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Payment
from madoguchi.simulators import acquirer
from tests.conftest import CARD_OK
from tests.support.journey import pay_by_card, shown_after

NOT_SENT = [
    httpx.ConnectError("refused"),
    httpx.ConnectTimeout("no connection in time"),
    httpx.PoolTimeout("no free connection"),
]


@contextmanager
def outbound_failing(exc: Exception) -> Iterator[None]:
    """Every outbound call of the providers fails with ``exc``."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with mock.patch("madoguchi.platform.http.transport", return_value=httpx.MockTransport(handler)):
        yield


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="310000000001", amount=700, return_url="http://shinsei.test/back"
        ),
    )


@pytest.fixture
def page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    return str(payer.get(f"/checkout/{raw}/")["Location"])


@pytest.mark.parametrize("exc", NOT_SENT, ids=lambda e: type(e).__name__)
def test_card_never_sent_fails_cleanly_and_can_be_retried_at_once(
    payer: Client, page: str, payment: Payment, exc: Exception
) -> None:
    with outbound_failing(exc):
        response = pay_by_card(payer, page, CARD_OK)
    assert "請求は発生していません" in shown_after(payer, response)
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("failed", "not_reached")
    # The citizen tries again at once, and pays.
    pay_by_card(payer, page, CARD_OK)
    payment.refresh_from_db()
    assert payment.status == "succeeded"


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("sent, no answer"), httpx.RemoteProtocolError("cut off")]
)
def test_card_answer_lost_after_sending_stays_unknown(
    payer: Client, page: str, exc: Exception
) -> None:
    with outbound_failing(exc):
        response = pay_by_card(payer, page, CARD_OK)
    shown_after(payer, response)
    assert Attempt.objects.get().status == "unknown"
    # Another attempt must wait for the janitor's inquiry.
    shown_after(payer, pay_by_card(payer, page, CARD_OK))
    assert Attempt.objects.count() == 1
    assert acquirer.STATE.results == {}


def test_paypay_never_sent_fails_cleanly(payer: Client, page: str, payment: Payment) -> None:
    with outbound_failing(httpx.ConnectError("refused")):
        response = payer.post(page + "paypay/start")
    assert "請求は発生していません" in shown_after(payer, response)
    attempt = Attempt.objects.get()
    assert (attempt.method, attempt.status) == ("paypay", "failed")
    # Straight on to another method.
    pay_by_card(payer, page, CARD_OK)
    assert Payment.objects.get().status == "succeeded"


def test_paypay_answer_lost_stays_unknown(payer: Client, page: str) -> None:
    with outbound_failing(httpx.ReadTimeout("sent, no answer")):
        payer.post(page + "paypay/start")
    assert Attempt.objects.get().status == "unknown"


def test_apple_pay_never_sent_fails_cleanly(demo: dict[str, Any], payer: Client) -> None:
    import json

    from tests.kessai.test_applepay import device_token

    wallet_payment = services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="310000000002", amount=600, return_url="http://shinsei.test/back"
        ),
    )
    raw, _ = services.checkout_token_create(payment=wallet_payment)
    page = str(payer.get(f"/checkout/{raw}/")["Location"])
    with outbound_failing(httpx.ConnectError("refused")):
        response = payer.post(
            page + "applepay/authorize",
            json.dumps({"token": device_token()}),
            content_type="application/json",
        )
    assert response.status_code == 402
    assert "請求は発生していません" in response.json()["error"]
    assert Attempt.objects.get().status == "failed"


def _paid(payer: Client, page: str, payment: Payment) -> Payment:
    pay_by_card(payer, page, CARD_OK)
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    return payment


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("sent, no answer")]
)
def test_refund_not_answered_stays_pending_for_the_janitor(
    payer: Client, page: str, payment: Payment, exc: Exception
) -> None:
    # Unlike an attempt nobody waits on a refund: whether or not it was sent,
    # it stays reserved and the janitor sends it once the acquirer is back.
    paid = _paid(payer, page, payment)
    refund = services.refund_create(payment=paid, amount=700, expected_refundable_amount=700)
    with outbound_failing(exc):
        refund = services.refund_submit(refund=refund)
    assert refund.status == "pending"
    paid.refresh_from_db()
    assert paid.refundable_amount == 0
