"""Apple Pay: token verification (chain to the configured root, Apple's OIDs,
signature, freshness, transactionId replay, merchant) and EC_v1 decryption,
merchant validation, and payment through the acquirer with the cryptogram.
Tokens are built with locally generated keys and certificates."""

import datetime
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Payment, PaymentEvent
from madoguchi.kessai.providers.applepay.token import TokenError, verify_and_decrypt
from madoguchi.simulators import acquirer
from madoguchi.simulators.applepay import DemoPki, _certificate, build_token

MERCHANT_ID = "merchant.jp.madoguchi.test"


@pytest.fixture(scope="module")
def pki() -> DemoPki:
    return DemoPki.generate()


@pytest.fixture(scope="module")
def merchant_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def verify(
    token: dict[str, Any], pki: DemoPki, key: ec.EllipticCurvePrivateKey, **changes: Any
) -> Any:
    args: dict[str, Any] = {
        "root": pki.root.certificate,
        "processing_key": key,
        "merchant_identifier": MERCHANT_ID,
        "now": now(),
        **changes,
    }
    return verify_and_decrypt(token, **args)


def token_for(pki: DemoPki, key: ec.EllipticCurvePrivateKey, **changes: Any) -> dict[str, Any]:
    return build_token(
        pki=pki,
        merchant_public_key=key.public_key(),
        merchant_identifier=MERCHANT_ID,
        amount=600,
        **changes,
    )


def test_valid_token_is_verified_and_decrypted(
    pki: DemoPki, merchant_key: ec.EllipticCurvePrivateKey
) -> None:
    token = token_for(pki, merchant_key, cryptogram="AQIDBAUGBwgJCgsMDQ4PEBES", eci="05")
    payment = verify(token, pki, merchant_key)
    assert (payment.amount, payment.currency_code, payment.eci, payment.last4) == (
        600,
        "392",
        "05",
        "1111",
    )
    assert payment.cryptogram == "AQIDBAUGBwgJCgsMDQ4PEBES"
    assert payment.transaction_id == token["paymentData"]["header"]["transactionId"]
    assert "4111111111111111" not in repr(payment)


def test_tampered_data_is_refused(pki: DemoPki, merchant_key: ec.EllipticCurvePrivateKey) -> None:
    token = token_for(pki, merchant_key)
    data = bytearray(__import__("base64").b64decode(token["paymentData"]["data"]))
    data[0] ^= 1
    token["paymentData"]["data"] = __import__("base64").b64encode(bytes(data)).decode()
    with pytest.raises(TokenError, match="bad_signature"):
        verify(token, pki, merchant_key)


def test_tampered_signature_is_refused(
    pki: DemoPki, merchant_key: ec.EllipticCurvePrivateKey
) -> None:
    import base64

    token = token_for(pki, merchant_key)
    signature = bytearray(base64.b64decode(token["paymentData"]["signature"]))
    signature[-10] ^= 0x55  # inside the ECDSA signature value
    token["paymentData"]["signature"] = base64.b64encode(bytes(signature)).decode()
    with pytest.raises(TokenError) as refused:
        verify(token, pki, merchant_key)
    assert refused.value.code in ("bad_signature", "invalid_signature_format")


def test_chain_to_another_root_is_refused(
    pki: DemoPki, merchant_key: ec.EllipticCurvePrivateKey
) -> None:
    token = token_for(pki, merchant_key)
    other_root = DemoPki.generate("Someone Else's Root").root.certificate
    with pytest.raises(TokenError, match="untrusted_chain"):
        verify(token, pki, merchant_key, root=other_root)


def test_leaf_without_apples_oid_is_refused(merchant_key: ec.EllipticCurvePrivateKey) -> None:
    real = DemoPki.generate()
    plain_leaf = _certificate(
        "no-oid", ec.generate_private_key(ec.SECP256R1()), real.intermediate, ca=False
    )
    impostor = DemoPki(real.root, real.intermediate, plain_leaf)
    with pytest.raises(TokenError, match="missing_certificate"):
        verify(token_for(impostor, merchant_key), impostor, merchant_key)


def test_stale_token_is_refused(pki: DemoPki, merchant_key: ec.EllipticCurvePrivateKey) -> None:
    token = token_for(pki, merchant_key)
    verify(token, pki, merchant_key, now=now() + datetime.timedelta(minutes=4))
    with pytest.raises(TokenError, match="stale"):
        verify(token, pki, merchant_key, now=now() + datetime.timedelta(minutes=6))


def test_token_for_another_merchant_is_refused(
    pki: DemoPki, merchant_key: ec.EllipticCurvePrivateKey
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(TokenError, match="wrong_merchant"):
        verify(token_for(pki, other), pki, merchant_key)


# --- through Kessai ------------------------------------------------------------


def configured_key() -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(
        Path(settings.KESSAI_APPLEPAY_PROCESSING_KEY).read_bytes(), None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def configured_pki() -> DemoPki:
    from madoguchi.simulators.applepay import _demo_material

    return _demo_material()[0]


def device_token(amount: int = 600, **changes: Any) -> dict[str, Any]:
    return build_token(
        pki=configured_pki(),
        merchant_public_key=configured_key().public_key(),
        merchant_identifier=settings.KESSAI_APPLEPAY_MERCHANT_ID,
        amount=amount,
        **changes,
    )


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="900000000001", amount=600, return_url="http://shinsei.test/back"
        ),
    )


@pytest.fixture
def page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    return str(payer.get(f"/checkout/{raw}/")["Location"])


def test_button_is_hidden_until_the_script_finds_apple_pay(payer: Client, page: str) -> None:
    text = payer.get(page).content.decode()
    assert '<div id="applepay" hidden' in text
    assert 'src="/static/kessai/applepay.js"' in text
    assert '<a href="http://acquirer.test/applepay/sheet?amount=600&amp;' in text


def test_authorized_token_pays_through_the_acquirer_with_cryptogram_and_eci(
    payer: Client, page: str, payment: Payment
) -> None:
    token = device_token(cryptogram="Y3J5cHRvZ3JhbQ==", eci="07")
    response = payer.post(
        page + "applepay/authorize", json.dumps({"token": token}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"redirect": page + "complete", "error": ""}
    attempt = Attempt.objects.get()
    assert (
        attempt.method,
        attempt.status,
        attempt.eci,
        attempt.card_brand,
        attempt.card_last4,
    ) == (
        "apple_pay",
        "succeeded",
        "07",
        "visa",
        "1111",
    )
    payment.refresh_from_db()
    assert (payment.status, payment.method) == ("succeeded", "apple_pay")
    [authorization] = acquirer.STATE.results.values()
    assert authorization["eci"] == "07"


def test_replayed_transaction_id_is_refused(payer: Client, page: str, payment: Payment) -> None:
    token = device_token()
    services.applepay_payment_pay(payment=payment, token=token)
    with pytest.raises(TokenError, match="replayed"):
        services.applepay_payment_pay(payment=payment, token=token)
    assert Attempt.objects.count() == 1
    assert len(acquirer.STATE.results) == 1


def test_replay_is_refused_even_after_a_decline(payment: Payment) -> None:
    token = device_token(dpan="4000000000000002")  # the acquirer declines this one
    assert services.applepay_payment_pay(payment=payment, token=token).status == "declined"
    with pytest.raises(TokenError, match="replayed"):
        services.applepay_payment_pay(payment=payment, token=token)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: device_token(amount=1), id="another amount"),
        pytest.param(lambda: {"paymentData": "nonsense"}, id="garbage"),
        pytest.param(lambda: "not an object", id="not an object"),
    ],
)
def test_bad_tokens_are_refused_without_an_attempt(payer: Client, page: str, token: Any) -> None:
    response = payer.post(
        page + "applepay/authorize",
        json.dumps({"token": token()}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Apple Payでお支払いできませんでした" in response.json()["error"]
    assert not Attempt.objects.exists()
    assert acquirer.STATE.results == {}


def test_demo_mode_walks_the_flow_through_the_simulator(
    payer: Client, page: str, payment: Payment
) -> None:
    text = payer.get(page).content.decode()
    sheet_url = html.unescape(re.search(r'href="([^"]+)" id="applepay-demo"', text).group(1))  # type: ignore[union-attr]
    sheet = Client(HTTP_HOST="acquirer.test").get(sheet_url.removeprefix("http://acquirer.test"))
    assert "600円" in sheet.content.decode()
    token = html.unescape(
        re.search(r'name="token" value="([^"]+)"', sheet.content.decode()).group(1)  # type: ignore[union-attr]
    )
    response = payer.post(page + "applepay/demo", {"token": token})
    assert response["Location"] == page + "complete"
    payment.refresh_from_db()
    assert payment.method == "apple_pay"


def test_merchant_validation_goes_only_to_configured_hosts(payer: Client, page: str) -> None:
    ok = payer.post(
        page + "applepay/validate",
        json.dumps(
            {"validationURL": "http://acquirer.test/applepay/paymentservices/paymentSession"}
        ),
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["merchantSessionIdentifier"].startswith("SSH")
    assert ok.json()["domainName"] == "kessai.test"
    refused = payer.post(
        page + "applepay/validate",
        json.dumps({"validationURL": "http://evil.example/paymentSession"}),
        content_type="application/json",
    )
    assert refused.status_code == 502


def test_device_account_number_is_never_stored(payment: Payment) -> None:
    services.applepay_payment_pay(payment=payment, token=device_token())
    stored = json.dumps(
        [list(Attempt.objects.values()), list(PaymentEvent.objects.values("data"))], default=str
    )
    assert "4111111111111111" not in stored
