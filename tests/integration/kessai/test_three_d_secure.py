"""EMV 3-D Secure 2 on the card page: frictionless for most cards, a
challenge with a one-time code at the (simulated) issuer for the 3-DS test
number, the ECI kept on the attempt, and a failed challenge leaving the
payment payable. Everything works without JavaScript: forms, links and
redirects only."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Notification, Payment
from madoguchi.simulators import acquirer
from tests.conftest import CARD_OK
from tests.support.journey import pay_by_card, shown_after

CARD_3DS = "4000000000003220"


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="700000000001", amount=5000, return_url="http://shinsei.test/back"
        ),
    )


@pytest.fixture
def page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    return str(payer.get(f"/checkout/{raw}/")["Location"])


def start_challenge(payer: Client, page: str) -> tuple[str, str]:
    """Pay with the 3-DS card; return the issuer page's URL and its one-time code."""
    response = pay_by_card(payer, page, CARD_3DS)
    assert response.status_code == 302
    assert response["Location"] == page + "card/3ds"
    intro = payer.get(response["Location"]).content.decode()
    link = r'id="challenge-link" href="(http://acquirer\.test/3ds/challenge/\w+)"'
    match = re.search(link, intro)
    assert match, intro
    issuer_page = Client(HTTP_HOST="acquirer.test").get(match.group(1)).content.decode()
    code = re.search(r'id="otp">(\d{6})<', issuer_page)
    assert code
    return match.group(1), code.group(1)


def answer(url: str, code: str, action: str = "verify") -> str:
    response = Client(HTTP_HOST="acquirer.test").post(url, {"code": code, "action": action})
    assert response.status_code == 302
    return str(response["Location"])


@pytest.mark.parametrize(
    ("number", "eci"), [(CARD_OK, "05"), ("5555555555554444", "02"), ("3530111333300000", "05")]
)
def test_other_cards_are_frictionless_and_the_eci_is_kept(
    payer: Client, page: str, number: str, eci: str
) -> None:
    assert pay_by_card(payer, page, number).status_code == 302
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.three_ds, attempt.eci) == ("succeeded", "frictionless", eci)


def test_challenge_passed_with_the_one_time_code(
    payer: Client, page: str, payment: Payment
) -> None:
    url, code = start_challenge(payer, page)
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.three_ds) == ("requires_action", "challenge")
    payment.refresh_from_db()
    assert payment.status == "started"
    back = answer(url, code)
    assert back == f"http://kessai.test{page}card/return"
    response = payer.get(back.removeprefix("http://kessai.test"))
    assert response["Location"] == page + "complete"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.three_ds, attempt.eci, attempt.card_last4) == (
        "succeeded",
        "challenge",
        "05",
        "3220",
    )
    payment.refresh_from_db()
    assert (payment.status, payment.method) == ("succeeded", "card")
    assert Notification.objects.filter(type="payment.succeeded").count() == 1


@pytest.mark.parametrize(
    ("action", "code", "message"),
    [
        ("verify", "000000", "本人認証（3-Dセキュア）に失敗しました"),
        ("cancel", "", "本人認証（3-Dセキュア）を中止しました"),
    ],
)
def test_failed_challenge_declines_the_attempt_and_the_payment_stays_payable(
    payer: Client, page: str, payment: Payment, action: str, code: str, message: str
) -> None:
    url, real_code = start_challenge(payer, page)
    assert code != real_code
    back = answer(url, code, action)
    assert message in shown_after(payer, payer.get(back.removeprefix("http://kessai.test")))
    attempt = Attempt.objects.get()
    assert attempt.status == "declined"
    assert attempt.eci == ""
    assert not Notification.objects.filter(type="payment.succeeded").exists()
    # The same payment can be paid with another card.
    assert pay_by_card(payer, page, CARD_OK).status_code == 302
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_open_challenge_blocks_other_attempts_and_is_offered_again(
    payer: Client, page: str, payment: Payment
) -> None:
    url, _ = start_challenge(payer, page)
    text = shown_after(payer, pay_by_card(payer, page, CARD_OK))
    assert "本人認証を続ける" in text
    assert f'href="{page}card/3ds"' in text  # which links on to the issuer's page
    assert url in payer.get(page + "card/3ds").content.decode()
    assert 'name="card_number"' not in text
    with pytest.raises(Exception, match="attempt"):
        services.payment_cancel(payment=payment)


def test_coming_back_without_answering_changes_nothing(payer: Client, page: str) -> None:
    start_challenge(payer, page)
    response = payer.get(page + "card/return")
    assert response["Location"] == page + "card/3ds"
    assert Attempt.objects.get().status == "requires_action"


def test_abandoned_challenge_is_settled_by_the_janitor_after_its_window(
    payer: Client, page: str, payment: Payment
) -> None:
    start_challenge(payer, page)
    # The issuer's window closes, and ours a little later.
    for challenge in acquirer.STATE.challenges.values():
        challenge["deadline"] = 0
    assert services.attempts_settle_unknown() == 0  # our window is still open
    Attempt.objects.update(action_expires_at=timezone.now() - timedelta(minutes=5))
    assert services.attempts_settle_unknown() == 1
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", "authentication_timeout")
    assert pay_by_card(payer, page, CARD_OK).status_code == 302


def test_card_data_never_reaches_the_issuer_page_or_our_pages(payer: Client, page: str) -> None:
    url, _ = start_challenge(payer, page)
    issuer_page = Client(HTTP_HOST="acquirer.test").get(url).content.decode()
    assert CARD_3DS not in issuer_page
    assert CARD_3DS not in url
    assert CARD_3DS not in payer.get(page + "card/3ds").content.decode()


def test_abandoned_challenge_offers_cancel_another_method_and_the_way_back(
    payer: Client, page: str, payment: Payment
) -> None:
    url, code = start_challenge(payer, page)
    # The citizen closes the issuer's page and comes back to ours.
    waiting = payer.get(page).content.decode()
    assert "本人認証を続ける" in waiting
    assert f'action="{page}card/3ds/cancel"' in waiting
    assert f'href="{page}back"' in waiting
    intro = payer.get(page + "card/3ds").content.decode()
    assert f'action="{page}card/3ds/cancel"' in intro
    assert f'href="{page}back"' in intro
    # Cancelling ends the challenge at the acquirer at once, not in 12 minutes.
    text = shown_after(payer, payer.post(page + "card/3ds/cancel"))
    assert "本人認証（3-Dセキュア）を中止しました" in text
    assert "お支払いできませんでした" not in text  # stopping is not a failure
    assert 'id="pay-button"' in text
    assert 'id="paypay-button"' in text
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", "authentication_abandoned")
    # The issuer page left open in another tab can no longer charge.
    late = Client(HTTP_HOST="acquirer.test").post(url, {"code": code, "action": "verify"})
    assert late.status_code == 404
    assert [r["status"] for r in acquirer.STATE.results.values()] == ["declined"]
    assert pay_by_card(payer, page, CARD_OK)["Location"] == page + "complete"
    payment.refresh_from_db()
    assert payment.status == "succeeded"
