"""Kessai's card connector for SBPS's API type, against the SBPS simulator
(in process): 与信 and 売上, declines mapped to Kessai's reasons, partial and
full refunds, and answers lost on the way back settled by 決済結果参照."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Payment, Refund
from madoguchi.kessai.providers.card.sbps import decline_code
from madoguchi.simulators import acquirer
from madoguchi.simulators import sbps as simulator
from tests.conftest import CARD_DECLINED, CARD_OK
from tests.support.journey import pay_by_card, shown_after
from tests.support.sbps_3ds import pay_by_card_through_sbps


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
            reference="300000000001", amount=1200, return_url="http://shinsei.test/back"
        ),
    )


def open_page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    response = payer.get(f"/checkout/{raw}/")
    assert response.status_code == 302
    return str(response["Location"])


def books() -> list[dict[str, Any]]:
    return list(simulator.STATE.transactions.values())


def test_decline_then_sale(payer: Client, payment: Payment) -> None:
    path = open_page(payer, payment)

    declined = pay_by_card_through_sbps(payer, path, CARD_DECLINED)
    assert "カードが承認されませんでした" in shown_after(payer, declined)
    assert pay_by_card_through_sbps(payer, path, CARD_OK).status_code == 302

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    attempt = payment.attempts.get(status="succeeded")
    [sale] = books()
    assert sale["tracking_id"] == attempt.provider_reference
    assert (sale["amount"], sale["status"], sale["commit_status"]) == (1200, "sold", "1")
    assert (attempt.card_brand, attempt.card_last4) == ("visa", "4242")
    assert acquirer.STATE.results == {}  # the sandbox was not used


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("10122999", "insufficient_funds"),
        ("10127200", "expired_card"),
        ("10161999", "incorrect_cvc"),
        ("10121999", "processing_error"),
        ("10123999", "card_declined"),
        ("garbage", "processing_error"),
    ],
)
def test_sbps_error_codes_map_to_decline_reasons(code: str, reason: str) -> None:
    assert decline_code(code) == reason


def test_partial_then_full_refund_agree_with_sbps(payer: Client, payment: Payment) -> None:
    pay_by_card_through_sbps(payer, open_page(payer, payment), CARD_OK)
    payment.refresh_from_db()

    refund = services.refund_create(payment=payment, amount=200, expected_refundable_amount=1200)
    services.refund_submit(refund=refund)

    payment.refresh_from_db()
    [sale] = books()
    assert (payment.refunded_amount, sale["refunded"]) == (200, 200)
    rest = services.refund_create(payment=payment, amount=1000, expected_refundable_amount=1000)
    services.refund_submit(refund=rest)
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert (sale["refunded"], sale["payment_status"]) == (1200, "3")


def test_whole_refund_uses_the_refund_request(payer: Client, payment: Payment) -> None:
    pay_by_card_through_sbps(payer, open_page(payer, payment), CARD_OK)
    payment.refresh_from_db()

    refund = services.refund_create(payment=payment, amount=1200, expected_refundable_amount=1200)
    refund = services.refund_submit(refund=refund)

    assert refund.status == Refund.Status.SUCCEEDED
    [sale] = books()
    assert (sale["refunded"], sale["payment_status"]) == (1200, "3")


def test_lost_sale_answer_is_settled_by_inquiry(payer: Client, payment: Payment) -> None:
    # The authorisation answers; the sale is made but its answer is lost.
    path = open_page(payer, payment)
    Client(HTTP_HOST="sbps.test").post(
        "/_sim/sbps/control", {"lose_answer_of": "ST02-00101-101"}, content_type="application/json"
    )

    back = pay_by_card_through_sbps(payer, path, CARD_OK)

    assert back.status_code == 302
    attempt = Attempt.objects.get()
    assert attempt.status == "requires_action"  # the outcome is still being asked
    [sale] = books()
    assert attempt.provider_reference == sale["tracking_id"]  # written before the sale

    Attempt.objects.filter(pk=attempt.pk).update(
        action_expires_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.attempts_settle_unknown() == 1

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert len(books()) == 1  # charged once


def test_lost_authentication_answer_charges_nothing(payer: Client, payment: Payment) -> None:
    simulator.STATE.lose_next_answer = 1  # the 3DS認証要求 is made; its answer is lost
    path = open_page(payer, payment)

    assert "カード会社からの応答を確認中です" in shown_after(
        payer, pay_by_card(payer, path, CARD_OK)
    )
    attempt = Attempt.objects.get()
    Attempt.objects.filter(pk=attempt.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    services.attempts_settle_unknown()

    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == ("declined", "not_received")
    assert books() == []  # never authorised: nothing charged


def test_lost_authorisation_answer_charges_nothing(payer: Client, payment: Payment) -> None:
    # Authenticated; the authorisation is made but its answer is lost.
    Client(HTTP_HOST="sbps.test").post(
        "/_sim/sbps/control", {"lose_answer_of": "ST01-00118-101"}, content_type="application/json"
    )
    pay_by_card_through_sbps(payer, open_page(payer, payment), CARD_OK)
    attempt = Attempt.objects.get()
    assert attempt.status == "requires_action"
    assert attempt.provider_reference.startswith("tds_")

    # Asked again at once: SBPS says used, which may be a call still running.
    assert services.attempt_refresh(attempt=attempt).status == "requires_action"
    Attempt.objects.filter(pk=attempt.pk).update(
        action_expires_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.attempts_settle_unknown() == 1

    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == ("declined", "not_received")
    [hold] = books()
    assert hold["commit_status"] == "0"  # authorised, never sold: nothing charged


def test_wrong_hash_key_is_refused_by_sbps(payer: Client, payment: Payment) -> None:
    Merchant.objects.filter(code="kyoiku-iinkai").update(sbps_hash_key="not-the-key")
    path = open_page(payer, payment)

    response = pay_by_card(payer, path, CARD_OK)

    # No usable answer (Basic auth refused): the page says it is checking.
    assert "カード会社からの応答を確認中です" in shown_after(payer, response)
    assert books() == []


def test_contract_end_deletes_the_sbps_hash_key(demo: dict[str, Any]) -> None:
    from madoguchi.kessai.merchants.lifecycle import merchant_contract_end

    merchant = Merchant.objects.get(code="kyoiku-iinkai")

    report = merchant_contract_end(merchant=merchant, ended_by="console:1")

    merchant.refresh_from_db()
    assert merchant.sbps_hash_key == ""
    assert report.deleted["kessai_merchant.sbps_hash_key"] == 1
