"""A payment past its due date cannot be paid, even before the expiry sweep
has run: every method starts its attempt through one check, the page says why,
and the API answers ``409 payment_past_due``."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.errors import PaymentPastDue
from madoguchi.kessai.payments.models import Attempt, Payment
from madoguchi.kessai.providers.card.cards import CardDetails
from madoguchi.simulators import acquirer
from tests.conftest import CARD_OK
from tests.kessai.test_applepay import device_token
from tests.support.journey import pay_by_card, shown_after


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="300000000001", amount=600, return_url="http://shinsei.test/back"
        ),
    )


@pytest.fixture
def page(payer: Client, payment: Payment) -> str:
    """The citizen opened the page in time; then the due date passed."""
    raw, _ = services.checkout_token_create(payment=payment)
    path = str(payer.get(f"/checkout/{raw}/")["Location"])
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    return path


def _nothing_started(payment: Payment) -> None:
    assert not Attempt.objects.filter(payment=payment).exists()
    assert acquirer.STATE.results == {}
    payment.refresh_from_db()
    assert payment.status == "created"


def test_card_after_due_date_is_refused_with_a_clear_message(
    payer: Client, page: str, payment: Payment
) -> None:
    response = pay_by_card(payer, page, CARD_OK)
    text = shown_after(payer, response)
    assert "お支払い期限" in text
    assert "を過ぎたため、お支払いいただけません" in text
    assert 'id="pay-button"' not in text
    _nothing_started(payment)


def test_page_in_english_says_the_due_date_passed(payer: Client, page: str) -> None:
    text = payer.get(page + "?lang=en").content.decode()
    assert "The due date" in text
    assert "has passed" in text


def test_paypay_after_due_date_is_refused(payer: Client, page: str, payment: Payment) -> None:
    response = payer.post(page + "paypay/start")
    assert "を過ぎたため、お支払いいただけません" in shown_after(payer, response)
    _nothing_started(payment)


def test_apple_pay_after_due_date_is_refused(payer: Client, page: str, payment: Payment) -> None:
    response = payer.post(
        page + "applepay/authorize",
        json.dumps({"token": device_token()}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "を過ぎたため" in payer.get(response.json()["redirect"]).content.decode()
    _nothing_started(payment)


def test_service_refuses_every_method_past_due(payment: Payment) -> None:
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2031, security_code="1")
    with pytest.raises(PaymentPastDue):
        services.card_payment_pay(payment=payment, card=card)
    with pytest.raises(PaymentPastDue):
        services.paypay_payment_start(payment=payment, return_url="http://kessai.test/r")
    _nothing_started(payment)


def test_api_checkout_after_due_date_is_a_clear_409(
    demo: dict[str, Any], api_client: Client, payment: Payment
) -> None:
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    response = api_client.post(
        f"/api/v1/payments/{payment.public_id}/checkout",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {demo['merchants']['mayor']['api_key']}",
        HTTP_IDEMPOTENCY_KEY="due-1",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "payment_past_due"
