"""PayPay: the OPA-Auth header against PayPay's documented sample, the
simulator's checks, and the whole flow — QR code or deep link, approval in
the (simulated) app, webhook and polling, decline, cancel, expiry, refund."""

import json
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, DailySummary, Notification, Payment
from madoguchi.kessai.providers.paypay.auth import body_hash, opa_auth_header
from madoguchi.kessai.providers.paypay.client import PayPayClient
from madoguchi.simulators import paypay as simulator
from tests.conftest import CARD_OK
from tests.support.journey import pay_by_card, shown_after

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


# --- OPA-Auth ----------------------------------------------------------------


def test_opa_auth_header_matches_paypays_documented_sample() -> None:
    """The sample of PayPay's "API認証 (HMAC)" document, value for value."""
    body = (
        b'{"sampleRequestBodyKey1":"sampleRequestBodyValue1",'
        b'"sampleRequestBodyKey2":"sampleRequestBodyValue2"}'
    )
    assert body_hash("application/json;charset=UTF-8;", body) == "1j0FnY4flNp5CtIKa7x9MQ=="
    header = opa_auth_header(
        api_key="APIKeyGenerated",
        api_secret="APIKeySecretGenerated",
        path="/v2/codes",
        method="POST",
        body=body,
        content_type="application/json;charset=UTF-8;",
        nonce="acd028",
        epoch=1579843452,
    )
    assert header == (
        "hmac OPA-Auth:APIKeyGenerated:NW1jKIMnzR7tEhMWtcJcaef+nFVBt7jjAGcVuxHhchc="
        ":acd028:1579843452:1j0FnY4flNp5CtIKa7x9MQ=="
    )


def test_opa_auth_without_body_uses_empty_for_hash_and_content_type() -> None:
    header = opa_auth_header(
        api_key="k",
        api_secret="s",
        path="/v2/codes/payments/x?ignored=1",
        method="GET",
        body=None,
        content_type="application/json;charset=UTF-8;",
        nonce="n",
        epoch=1,
    )
    assert header.endswith(":n:1:empty")
    same_without_query = opa_auth_header(
        api_key="k",
        api_secret="s",
        path="/v2/codes/payments/x",
        method="GET",
        body=None,
        content_type="empty",
        nonce="n",
        epoch=1,
    )
    assert header == same_without_query


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, 404),  # authenticated: the payment simply does not exist
        ({"api_secret": "wrong"}, 401),
        ({"api_key": "someone-else"}, 401),
        ({"epoch": int(time.time()) - 300}, 401),
    ],
)
def test_simulator_checks_the_auth_header_like_paypay(
    db: None, change: dict[str, Any], expected: int
) -> None:
    path = "/v2/codes/payments/att_unknown_1"
    args: dict[str, Any] = {
        "api_key": "paypay_test_key",
        "api_secret": "paypay-test-secret",
        "path": path,
        "method": "GET",
        "body": None,
        "content_type": "empty",
        **change,
    }
    response = Client(HTTP_HOST="paypay.test").get(
        path,
        headers={"Authorization": opa_auth_header(**args), "X-ASSUME-MERCHANT": "test-merchant"},
    )
    assert response.status_code == expected


def test_simulator_refuses_a_tampered_body_and_a_replayed_nonce(db: None) -> None:
    body = (
        b'{"merchantPaymentId":"m1","amount":{"amount":100,"currency":"JPY"},"codeType":"ORDER_QR"}'
    )
    content_type = "application/json;charset=UTF-8;"
    header = opa_auth_header(
        api_key="paypay_test_key",
        api_secret="paypay-test-secret",
        path="/v2/codes",
        method="POST",
        body=body,
        content_type=content_type,
    )
    client = Client(HTTP_HOST="paypay.test")
    headers = {"Authorization": header, "X-ASSUME-MERCHANT": "test-merchant"}
    tampered = body.replace(b"100", b"1")
    assert client.post("/v2/codes", tampered, content_type, headers=headers).status_code == 401
    assert client.post("/v2/codes", body, content_type, headers=headers).status_code == 201
    assert client.post("/v2/codes", body, content_type, headers=headers).status_code == 401
    assert list(simulator.STATE.payments) == ["m1"]


def test_client_talks_to_the_simulator_end_to_end(db: None) -> None:
    client = PayPayClient()
    created = client.create_code(
        merchant_payment_id="att_x_1", amount=700, redirect_url="http://r", requested_at=1
    )
    assert (created.status_code, created.code) == (201, "SUCCESS")
    assert created.data["deeplink"].startswith("paypay://payment?link=http%3A%2F%2Fpaypay.test")
    details = client.get_payment_details(merchant_payment_id="att_x_1")
    assert details.data["status"] == "CREATED"
    assert client.cancel_payment(merchant_payment_id="att_x_1").code == "REQUEST_ACCEPTED"
    assert client.get_payment_details(merchant_payment_id="att_x_1").data["status"] == "CANCELED"


# --- the flow ----------------------------------------------------------------


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="800000000001", amount=1200, return_url="http://shinsei.test/back"
        ),
    )


@pytest.fixture
def page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    return str(payer.get(f"/checkout/{raw}/")["Location"])


def start(payer: Client, page: str) -> str:
    """Press 「PayPayで支払う」; return the app's URL shown on the page."""
    response = payer.post(page + "paypay/start")
    assert response.status_code == 302
    assert response["Location"] == page + "paypay"
    text = payer.get(response["Location"]).content.decode()
    match = re.search(r'href="(http://paypay\.test/app/codes/[\w-]+)" id="paypay-link"', text)
    assert match, text
    return match.group(1)


def app(url: str, action: str = "approve") -> Any:
    return Client(HTTP_HOST="paypay.test").post(url, {"action": action})


def control(**body: Any) -> None:
    Client(HTTP_HOST="paypay.test").post(
        "/_sim/paypay/control", json.dumps(body), content_type="application/json"
    )


def test_desktop_shows_a_qr_code_and_polls_with_a_same_origin_script(
    payer: Client, page: str
) -> None:
    start(payer, page)
    response = payer.get(page + "paypay")
    text = response.content.decode()
    assert 'class="segno"><title>PayPayの支払いコード</title>' in text
    assert 'src="/static/kessai/paypay.js"' in text
    assert "<script>" not in text  # no inline script (CSP)
    assert "style=" not in text
    assert "paypay-deeplink" not in text
    assert payer.get(page + "paypay/status").json() == {"waiting": True}


def test_phone_gets_the_deep_link_instead(payer: Client, page: str) -> None:
    start(payer, page)
    text = payer.get(page + "paypay", headers={"User-Agent": IPHONE}).content.decode()
    assert 'id="paypay-deeplink" href="paypay://payment?link=' in text
    assert "<svg" not in text


def test_approved_in_the_app_the_webhook_settles_it_at_once(
    payer: Client, page: str, payment: Payment
) -> None:
    url = start(payer, page)
    response = app(url)
    assert response["Location"] == f"http://kessai.test{page}paypay/return"
    # The webhook arrived during the approval and Kessai asked PayPay.
    payment.refresh_from_db()
    assert (payment.status, payment.method) == ("succeeded", "paypay")
    attempt = Attempt.objects.get()
    assert attempt.status == "succeeded"
    assert attempt.provider_reference.isdigit()  # PayPay's paymentId, for refunds
    assert len(simulator.STATE.sent_webhooks) == 1
    back = payer.get(page + "paypay/return")
    assert back["Location"] == page + "complete"
    assert Notification.objects.filter(type="payment.succeeded").count() == 1
    assert DailySummary.objects.get().method == "paypay"


def test_without_the_webhook_polling_finds_the_approval(
    payer: Client, page: str, payment: Payment
) -> None:
    control(webhook="drop")
    url = start(payer, page)
    app(url)
    assert Attempt.objects.get().status == "requires_action"  # nobody told us yet
    assert payer.get(page + "paypay/status").json() == {"waiting": False}
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_a_delayed_webhook_after_polling_changes_nothing(
    payer: Client, page: str, payment: Payment
) -> None:
    control(webhook="delay", delay_seconds=0)
    url = start(payer, page)
    app(url)
    assert payer.get(page + "paypay/return")["Location"] == page + "complete"
    control(flush=True)
    assert len(simulator.STATE.sent_webhooks) == 1
    assert Notification.objects.filter(type="payment.succeeded").count() == 1
    assert payment.events.filter(type="payment.succeeded").count() == 1


def test_a_forged_webhook_is_only_a_hint(payer: Client, page: str) -> None:
    start(payer, page)
    attempt = Attempt.objects.get()
    forged = {"merchant_order_id": services.attempt_key(attempt), "state": "COMPLETED"}
    response = payer.post("/paypay/webhook", json.dumps(forged), content_type="application/json")
    assert response.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "requires_action"  # PayPay says CREATED


def test_declined_in_the_app_leaves_the_payment_payable(
    payer: Client, page: str, payment: Payment
) -> None:
    control(decline_next=True)
    url = start(payer, page)
    app(url)
    text = shown_after(payer, payer.get(page + "paypay/return"))
    assert "PayPayでのお支払いができませんでした" in text
    assert Attempt.objects.get().decline_code == "paypay_failed"
    assert pay_by_card(payer, page, CARD_OK).status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.method) == ("succeeded", "card")


def test_cancelled_by_the_citizen_cannot_complete_later(
    payer: Client, page: str, payment: Payment
) -> None:
    url = start(payer, page)
    text = shown_after(payer, payer.post(page + "paypay/cancel"))
    assert "PayPayでのお支払いを中止しました" in text
    # Stopping on purpose is not a failure: a neutral banner, not an error.
    assert "お支払いできませんでした" not in text
    assert "notice-error" not in text
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", "paypay_cancelled")
    # Approving the old code in the app now does nothing.
    app(url)
    payment.refresh_from_db()
    assert payment.status == "started"
    assert [p["status"] for p in simulator.STATE.payments.values()] == ["CANCELED"]


def test_code_paypay_expires_is_seen_by_polling(payer: Client, page: str) -> None:
    start(payer, page)
    control(expire_all=True)
    assert payer.get(page + "paypay/status").json() == {"waiting": False}
    assert "有効期限が切れました" in shown_after(payer, payer.get(page + "paypay/return"))
    assert Attempt.objects.get().decline_code == "paypay_expired"


def test_code_that_ran_out_of_time_is_ended_by_the_janitor(
    payer: Client, page: str, payment: Payment
) -> None:
    url = start(payer, page)
    for code in simulator.STATE.payments.values():
        code["expiryDate"] = int(time.time()) - 1
    assert app(url).status_code == 410  # the app refuses to approve an expired code
    # PayPay still reads CREATED for an expired code (as its FAQ says).
    assert [p["status"] for p in simulator.STATE.payments.values()] == ["CREATED"]
    assert services.attempts_settle_unknown() == 0  # our window is still open
    Attempt.objects.update(action_expires_at=timezone.now() - timedelta(minutes=5))
    assert services.attempts_settle_unknown() == 1
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("declined", "paypay_expired")
    payment.refresh_from_db()
    assert payment.status == "started"
    assert "有効期限が切れました" in shown_after(payer, payer.get(page + "paypay/return"))


def test_paypay_payment_is_refunded_through_paypay(
    payer: Client, page: str, payment: Payment
) -> None:
    app(start(payer, page))
    refund = services.refund_create(payment=payment, amount=200, expected_refundable_amount=1200)
    refund = services.refund_submit(refund=refund)
    assert refund.status == "succeeded"
    [paypay_refund] = simulator.STATE.refunds.values()
    assert paypay_refund["amount"] == {"amount": 200, "currency": "JPY"}
    assert paypay_refund["paymentId"] == Attempt.objects.get().provider_reference
    refund = services.refund_create(payment=payment, amount=1000, expected_refundable_amount=1000)
    services.refund_submit(refund=refund)
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", 1200)
    assert [p["status"] for p in simulator.STATE.payments.values()] == ["REFUNDED"]


def test_nothing_but_the_amount_reaches_paypay(payer: Client, page: str, payment: Payment) -> None:
    app(start(payer, page))
    sent = json.dumps(list(simulator.STATE.payments.values()))
    assert payment.reference not in sent
    assert "藤沢" not in sent
