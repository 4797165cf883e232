"""Every test card of docs/api.md#test-cards through SBPS's API type with EMV
3-D Secure 2 (3DS認証要求, the simulated issuer page, 決済要求（3DS認証情報付加・
認証結果ID指定）, 売上): successes by brand, declines by reason, a challenge
passed, failed, cancelled on the issuer's page or abandoned on Kessai's,
and one nobody finishes."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Payment
from madoguchi.simulators import acquirer
from madoguchi.simulators import sbps as simulator
from tests.support.journey import pay_by_card
from tests.support.sbps_3ds import pay_by_card_through_sbps, through_sbps_3ds

CHALLENGE_VISA = "4000000000003220"
CHALLENGE_MASTERCARD = "5200000000003225"


@pytest.fixture(autouse=True)
def _fresh_sbps() -> None:
    simulator.STATE.reset()


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    merchant = Merchant.objects.get(code="kyoiku-iinkai")
    assert merchant.card_connector == "sbps_api"
    return services.payment_create(
        merchant=merchant,
        request=schemas.PaymentCreateRequest(
            reference="300000000002", amount=1200, return_url="http://shinsei.test/back"
        ),
    )


def open_page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    response = payer.get(f"/checkout/{raw}/")
    assert response.status_code == 302
    return str(response["Location"])


def sales() -> list[dict[str, Any]]:
    return [t for t in simulator.STATE.transactions.values() if t["commit_status"] == "1"]


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("3530111333300000", "jcb"),
        ("378282246310005", "amex"),
        ("36227206271667", "diners"),
    ],
)
def test_frictionless_success_by_brand(
    payer: Client, payment: Payment, number: str, brand: str
) -> None:
    path = open_page(payer, payment)
    cvc = "1234" if brand == "amex" else "123"

    posted = payer.post(
        path + "card",
        {"card_number": number, "exp_month": "12", "exp_year": "2031", "security_code": cvc},
    )
    back = through_sbps_3ds(payer, posted)  # no page to answer: straight back

    assert back.status_code == 302
    assert back["Location"] == f"/pay/{payment.public_id}/complete"
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.card_brand, attempt.card_last4) == (
        "succeeded",
        brand,
        number[-4:],
    )
    assert attempt.three_ds == "sbps_3ds2"
    [sale] = sales()
    assert (sale["tracking_id"], sale["three_ds"]) == (attempt.provider_reference, "frictionless")
    assert acquirer.STATE.results == {}  # the sandbox was not used


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
        ("4000000000000119", "processing_error"),
    ],
)
def test_declines_by_reason_then_pay_again(
    payer: Client, payment: Payment, number: str, reason: str
) -> None:
    path = open_page(payer, payment)

    declined = pay_by_card_through_sbps(payer, path, number)

    assert declined["Location"] == path
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", reason)
    assert sales() == []
    assert pay_by_card_through_sbps(payer, path, "4242424242424242").status_code == 302
    payment.refresh_from_db()
    assert payment.status == "succeeded"


@pytest.mark.parametrize("number", [CHALLENGE_VISA, CHALLENGE_MASTERCARD])
def test_challenge_passed(payer: Client, payment: Payment, number: str) -> None:
    path = open_page(payer, payment)

    back = pay_by_card_through_sbps(payer, path, number, answer="right")

    assert back["Location"] == f"/pay/{payment.public_id}/complete"
    [sale] = sales()
    assert sale["three_ds"] == "challenge"
    assert sale["eci"] == ("02" if number.startswith("5") else "05")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [("wrong", "authentication_failed"), ("cancel", "authentication_abandoned")],
)
def test_challenge_failed_or_cancelled_charges_nothing(
    payer: Client, payment: Payment, answer: str, reason: str
) -> None:
    path = open_page(payer, payment)

    back = pay_by_card_through_sbps(payer, path, CHALLENGE_VISA, answer=answer)

    assert back["Location"] == path
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", reason)
    assert simulator.STATE.transactions == {}  # never authorised
    assert pay_by_card_through_sbps(payer, path, "4242424242424242").status_code == 302


def test_challenge_open_blocks_another_attempt_and_abandoning_it_charges_nothing(
    payer: Client, payment: Payment
) -> None:
    path = open_page(payer, payment)
    to_issuer = pay_by_card(payer, path, CHALLENGE_VISA)
    issuer_page = to_issuer["Location"].removeprefix("http://sbps.test")
    attempt = Attempt.objects.get()
    assert attempt.status == "requires_action"

    second = pay_by_card(payer, path, "4242424242424242")
    assert second.status_code == 302  # back to the page: an attempt is open
    assert Attempt.objects.count() == 1

    abandoned = payer.post(f"/pay/{payment.public_id}/card/3ds/cancel")
    assert abandoned.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == ("declined", "authentication_abandoned")

    # The issuer page left open in another tab is finished after all.
    sbps = Client(HTTP_HOST="sbps.test")
    page = sbps.get(issuer_page).content.decode()
    code = page.split('id="otp">')[1][:6]
    returned = sbps.post(issuer_page, {"action": "verify", "code": code})
    payer.get(returned["Location"].removeprefix("http://kessai.test"))
    assert simulator.STATE.transactions == {}  # Kessai never authorised it
    payment.refresh_from_db()
    assert payment.status != "succeeded"


def test_challenge_nobody_finishes_times_out(payer: Client, payment: Payment) -> None:
    path = open_page(payer, payment)
    pay_by_card(payer, path, CHALLENGE_VISA)
    attempt = Attempt.objects.get()
    for authentication in simulator.STATE.authentications.values():
        authentication["deadline"] = 0  # SBPS's window has passed
    Attempt.objects.filter(pk=attempt.pk).update(
        action_expires_at=timezone.now() - timedelta(minutes=5)
    )

    assert services.attempts_settle_unknown() == 1

    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == ("declined", "authentication_timeout")
    assert simulator.STATE.transactions == {}


def test_a_new_merchant_pays_by_card_through_sbps_by_default(db: None) -> None:
    """Production's default card path is SBPS's documented API type; the
    acquirer sandbox is the test suite's fake."""
    from django.test import override_settings

    from madoguchi.kessai import settings as production
    from madoguchi.kessai.merchants.services import merchant_create

    assert production.KESSAI_DEFAULT_CARD_CONNECTOR == "sbps_api"
    with override_settings(KESSAI_DEFAULT_CARD_CONNECTOR=production.KESSAI_DEFAULT_CARD_CONNECTOR):
        merchant, _ = merchant_create(
            code="new-agency", display_name="新しい機関", notification_url="https://example.jp/n"
        )
    assert merchant.card_connector == "sbps_api"


def test_the_embedded_default_charges_every_agency_through_sbps(db: None) -> None:
    from django.test import override_settings

    from madoguchi.kessai import settings as production
    from madoguchi.kessai.merchants.demo import seed_demo

    assert production.KESSAI_DEMO_CARD_CONNECTOR == "sbps_api"
    with override_settings(KESSAI_DEMO_CARD_CONNECTOR=production.KESSAI_DEMO_CARD_CONNECTOR):
        seed_demo(shinsei_public_url="http://shinsei.test")

    connectors = dict(Merchant.objects.values_list("code", "card_connector"))
    assert connectors == dict.fromkeys(connectors, "sbps_api")
    assert len(connectors) == 3
