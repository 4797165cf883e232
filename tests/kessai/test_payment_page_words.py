"""The payment page says what is true: an old link of an ended payment says it
ended, a lost answer offers no other attempt, TLS is claimed only over TLS."""

from typing import Any

import pytest
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Payment


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="300000000002", amount=600, return_url="http://shinsei.test/back"
        ),
    )


@pytest.mark.parametrize(
    ("language", "cancelled"),
    [
        ("ja", "このお支払いは取り消されました。お支払いの必要はありません。"),
        ("en", "This payment has been cancelled. You do not need to pay."),
    ],
)
def test_an_old_link_of_a_cancelled_payment_says_it_was_cancelled(
    payer: Client, payment: Payment, language: str, cancelled: str
) -> None:
    raw, _ = services.checkout_token_create(payment=payment)
    assert payer.get(f"/checkout/{raw}/").status_code == 302  # used once
    services.payment_cancel(payment=payment)
    again = payer.get(f"/checkout/{raw}/", {"lang": language})
    text = again.content.decode()
    assert again.status_code == 404
    assert cancelled in text
    assert "もう一度「支払う」を押してください" not in text


def test_an_unknown_link_still_sends_the_citizen_back_to_pay(
    payer: Client, payment: Payment
) -> None:
    text = payer.get("/checkout/not-a-link/").content.decode()
    assert "もう一度「支払う」を押してください" in text
    assert 'id="link-ended"' not in text


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("ja", "カード会社からの応答を確認中です。二重に請求されることはありません。"),
        ("en", "Refresh this page"),
    ],
)
def test_a_lost_answer_offers_no_other_attempt(
    payer: Client, payment: Payment, language: str, said: str
) -> None:
    from madoguchi.kessai.payments.models import Attempt

    raw, _ = services.checkout_token_create(payment=payment)
    page = str(payer.get(f"/checkout/{raw}/")["Location"])
    Attempt.objects.create(payment=payment, method="card", status=Attempt.Status.UNKNOWN)
    text = payer.get(page, {"lang": language}).content.decode()
    assert 'id="payment-awaiting"' in text
    assert said in text
    for offered in ('id="pay-button"', 'id="paypay-button"', 'name="number"', "applepay"):
        assert offered not in text


def test_the_page_claims_tls_only_when_served_over_tls(payer: Client, payment: Payment) -> None:
    raw, _ = services.checkout_token_create(payment=payment)
    page = str(payer.get(f"/checkout/{raw}/")["Location"])
    plain = payer.get(page).content.decode()
    assert "TLS" not in plain
    assert "カード情報は保存されません。" in plain
    secure = payer.get(page, secure=True).content.decode()
    assert "通信はTLSで暗号化されています。" in secure
