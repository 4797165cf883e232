"""The privacy promises for what this issue added: a 3-D Secure card, Apple
Pay's device account number and cryptogram, and PayPay reach no table and no
log (the card's number and code, the DPAN and cryptogram in memory only)."""

import json
import logging
import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Payment
from tests.kessai.test_applepay import device_token
from tests.support.journey import pay_by_card
from tests.support.scan import table_texts

PAN_3DS = "4000000000003220"
CVC = "8642"
DPAN = "4111111111111111"
CRYPTOGRAM = "UHJpdmF0ZUNyeXB0b2dyYW0="


def new_page(payer: Client, reference: str, amount: int = 600) -> tuple[Payment, str]:
    payment = services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference=reference, amount=amount, return_url="http://shinsei.test/back"
        ),
    )
    raw, _ = services.checkout_token_create(payment=payment)
    return payment, str(payer.get(f"/checkout/{raw}/")["Location"])


@pytest.fixture
def wallet_journeys(
    demo: dict[str, Any], payer: Client, run_tasks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A 3-D Secure challenge, passed.
    _, page = new_page(payer, "PRIV-0001")
    pay_by_card(payer, page, PAN_3DS, cvc=CVC)
    intro = payer.get(page + "card/3ds").content.decode()
    url = re.search(r'href="(http://acquirer\.test/3ds/challenge/\w+)"', intro).group(1)  # type: ignore[union-attr]
    issuer = Client(HTTP_HOST="acquirer.test")
    code = re.search(r'id="otp">(\d{6})<', issuer.get(url).content.decode()).group(1)  # type: ignore[union-attr]
    issuer.post(url, {"code": code, "action": "verify"})
    assert payer.get(page + "card/return")["Location"] == page + "complete"
    # Apple Pay.
    _, page = new_page(payer, "PRIV-0002")
    token = device_token(dpan=DPAN, cryptogram=CRYPTOGRAM)
    response = payer.post(
        page + "applepay/authorize", json.dumps({"token": token}), content_type="application/json"
    )
    assert response.json()["redirect"] == page + "complete"
    # PayPay.
    _, page = new_page(payer, "PRIV-0003")
    payer.post(page + "paypay/start")
    app_url = re.search(
        r'href="(http://paypay\.test/app/codes/[\w-]+)" id="paypay-link"',
        payer.get(page + "paypay").content.decode(),
    ).group(1)  # type: ignore[union-attr]
    Client(HTTP_HOST="paypay.test").post(app_url, {"action": "approve"})
    assert payer.get(page + "paypay/return")["Location"] == page + "complete"
    run_tasks()


def test_wallet_and_3ds_secrets_are_in_no_table(wallet_journeys: None) -> None:
    for table, text in table_texts().items():
        for secret in (PAN_3DS, DPAN, CRYPTOGRAM):
            assert secret not in text, f"{secret} stored in {table}"
        assert f"'{CVC}'" not in text
        assert f'"{CVC}"' not in text


def test_wallet_and_3ds_secrets_are_in_no_log(
    wallet_journeys: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    captured = capsys.readouterr()
    records = caplog.get_records("setup")
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records)
    logs += captured.out + captured.err
    assert "HTTP Request" in logs  # sanity: the journeys' logging was captured
    for secret in (PAN_3DS, DPAN, CRYPTOGRAM, CVC):
        assert secret not in logs
