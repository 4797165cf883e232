"""The hosted page and card payments: links, validation, declines, retries,
and outcomes that arrive late or never."""

import datetime
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, CheckoutToken, Notification, Payment
from madoguchi.simulators import acquirer
from tests.conftest import CARD_DECLINED, CARD_OK
from tests.support.journey import pay_by_card, shown_after


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    merchant = Merchant.objects.get(code="mayor")
    return services.payment_create(
        merchant=merchant,
        request=schemas.PaymentCreateRequest(
            reference="200000000001", amount=300, return_url="http://shinsei.test/back"
        ),
    )


def open_page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    response = payer.get(f"/checkout/{raw}/")
    assert response.status_code == 302
    return str(response["Location"])


def test_checkout_link_works_once(payer: Client, payment: Payment) -> None:
    raw, _ = services.checkout_token_create(payment=payment)
    assert payer.get(f"/checkout/{raw}/").status_code == 302
    again = Client(HTTP_HOST="kessai.test").get(f"/checkout/{raw}/")
    assert again.status_code == 404
    assert "このリンクは使用できません" in again.content.decode()


def test_expired_checkout_link_is_refused(payer: Client, payment: Payment) -> None:
    raw, token = services.checkout_token_create(payment=payment)
    CheckoutToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    assert payer.get(f"/checkout/{raw}/").status_code == 404


def test_payment_page_needs_the_link(payment: Payment) -> None:
    stranger = Client(HTTP_HOST="kessai.test")
    assert stranger.get(f"/pay/{payment.public_id}/").status_code == 404


def test_page_shows_only_agency_reference_and_amount(payer: Client, payment: Payment) -> None:
    page = payer.get(open_page(payer, payment))
    text = page.content.decode()
    assert "藤沢市（市長）" in text
    assert "200000000001" in text
    assert "300円" in text
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "カード番号を入力してください。"),
        ("4242 4242 4242 4241", "カード番号が正しくありません。"),
        ("abcd", "カード番号は数字で入力してください。"),
        ("6011111111111117", "このカードはご利用いただけません。"),
    ],
)
def test_invalid_card_number_gets_japanese_error_naming_the_field(
    payer: Client, payment: Payment, number: str, message: str
) -> None:
    text = shown_after(payer, pay_by_card(payer, open_page(payer, payment), number))
    assert message in text  # the error summary names the field (the message does)
    assert "カード番号：" not in text  # ... without repeating the label
    assert Attempt.objects.count() == 0
    if number:
        assert number not in text  # what was typed is never echoed back


def test_expired_card_is_caught_before_the_acquirer(
    payer: Client, payment: Payment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2026, 6, 15))
    path = open_page(payer, payment)
    response = payer.post(
        path + "card",
        {"card_number": CARD_OK, "exp_month": "5", "exp_year": "2026", "security_code": "123"},
    )
    assert "有効期限が過ぎています" in shown_after(payer, response)
    assert acquirer.STATE.results == {}
    still_valid = payer.post(
        path + "card",
        {"card_number": CARD_OK, "exp_month": "6", "exp_year": "2026", "security_code": "123"},
    )
    assert still_valid.status_code == 302


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        (CARD_DECLINED, "card_declined", "承認されませんでした"),
        ("4000000000009995", "insufficient_funds", "ご利用可能額が不足"),
        ("4000000000000069", "expired_card", "有効期限が切れています"),
        ("4000000000000127", "incorrect_cvc", "セキュリティコードが正しくありません"),
        ("4000000000000119", "processing_error", "時間をおいて"),
    ],
)
def test_declines_are_explained_and_the_same_payment_stays_payable(
    payer: Client, payment: Payment, number: str, code: str, message: str
) -> None:
    path = open_page(payer, payment)
    assert message in shown_after(payer, pay_by_card(payer, path, number))
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", code)
    assert pay_by_card(payer, path, CARD_OK).status_code == 302
    payment.refresh_from_db()
    assert payment.status == "succeeded"


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
def test_each_brand_pays(payer: Client, payment: Payment, number: str, brand: str) -> None:
    assert (
        pay_by_card(
            payer, open_page(payer, payment), number, cvc="1234" if brand == "amex" else "123"
        ).status_code
        == 302
    )
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.card_brand, attempt.card_last4) == (
        "succeeded",
        brand,
        number[-4:],
    )


def test_paying_twice_charges_once(payer: Client, payment: Payment) -> None:
    path = open_page(payer, payment)
    assert pay_by_card(payer, path, CARD_OK).status_code == 302
    second = pay_by_card(payer, path, "5555555555554444")  # a double click / back button
    assert "このお支払いは完了しています" in shown_after(payer, second)
    assert len(acquirer.STATE.results) == 1
    assert Attempt.objects.count() == 1
    assert Notification.objects.filter(type="payment.succeeded").count() == 1


def test_attempt_in_progress_blocks_a_parallel_attempt(payer: Client, payment: Payment) -> None:
    path = open_page(payer, payment)
    Attempt.objects.create(payment=payment, method="card")  # another tab, mid-flight
    shown = shown_after(payer, pay_by_card(payer, path, CARD_OK))
    # The page says the answer is awaited and offers no other attempt.
    assert "カード会社からの応答を確認中です" in shown
    assert 'id="pay-button"' not in shown
    assert acquirer.STATE.results == {}


def test_lost_answer_is_settled_by_inquiry_without_charging_twice(
    payer: Client, payment: Payment, run_tasks: Any
) -> None:
    # The acquirer captures, but its answer never reaches us.
    acquirer.STATE.lose_next = 1
    path = open_page(payer, payment)
    text = shown_after(payer, pay_by_card(payer, path, CARD_OK))
    assert "二重に請求されることはありません" in text
    attempt = Attempt.objects.get()
    assert attempt.status == "unknown"
    # The citizen cannot start another attempt while the outcome is unknown.
    shown = shown_after(payer, pay_by_card(payer, path, CARD_OK))
    assert "二重に請求されることはありません" in shown
    assert 'id="pay-button"' not in shown
    assert Attempt.objects.count() == 1
    # The janitor asks the acquirer and settles it as paid.
    Attempt.objects.filter(pk=attempt.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.attempts_settle_unknown() == 1
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert len(acquirer.STATE.results) == 1
    assert Notification.objects.filter(type="payment.succeeded").count() == 1


def test_acquirer_down_leaves_payment_retryable(payer: Client, payment: Payment) -> None:
    acquirer.STATE.fail_next = 1  # 503: never processed
    path = open_page(payer, payment)
    assert "確認中" in shown_after(payer, pay_by_card(payer, path, CARD_OK))
    attempt = Attempt.objects.get()
    Attempt.objects.filter(pk=attempt.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    services.attempts_settle_unknown()
    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == ("declined", "not_received")
    assert pay_by_card(payer, path, CARD_OK).status_code == 302
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_success_on_an_expired_payment_does_not_resurrect_it(payment: Payment) -> None:
    attempt = Attempt.objects.create(payment=payment, method="card")
    Payment.objects.filter(pk=payment.pk).update(status="expired")
    from madoguchi.kessai.providers.base import ProviderResult

    services.attempt_finish(attempt=attempt, result=ProviderResult(succeeded=True))
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert payment.events.filter(type="attempt.succeeded_after_final").count() == 1
    assert not Notification.objects.filter(type="payment.succeeded").exists()


def test_due_payments_expire_and_notify(payment: Payment) -> None:
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert services.payments_expire_due() == 1
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert Notification.objects.filter(type="payment.expired").count() == 1
    assert services.payments_expire_due() == 0


def test_success_is_counted_in_the_daily_summary_in_the_same_transaction(
    payer: Client, payment: Payment
) -> None:
    from madoguchi.kessai.payments.ledger import jst_day
    from madoguchi.kessai.payments.models import DailySummary

    path = open_page(payer, payment)
    pay_by_card(payer, path, CARD_DECLINED)
    pay_by_card(payer, path, CARD_OK)
    payment.refresh_from_db()
    assert payment.paid_at is not None
    row = DailySummary.objects.get()
    assert (row.day, row.merchant_id, row.method) == (
        jst_day(payment.paid_at),
        payment.merchant_id,
        "card",
    )
    assert (row.succeeded_count, row.succeeded_amount, row.refunded_amount) == (1, 300, 0)
