"""The merchant API takes money as strict integers and JSON as written: no
coercion (300.0, "300", 1e3, true), no bare-number times, no duplicate keys.
Each is 422 and nothing is created."""

from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.payments.models import IdempotencyRecord, Payment, Refund
from tests.kessai.test_api import BODY, post

RAW_BODY = '{{"reference": "100000000009", "amount": {amount}, "return_url": "http://s.test/r"}}'


@pytest.fixture
def mayor_key(demo: dict[str, Any]) -> str:
    return str(demo["merchants"]["mayor"]["api_key"])


def post_raw(client: Client, api_key: str, raw: str, path: str = "/api/v1/payments") -> Any:
    return client.post(
        path,
        raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "strict-1"},
    )


@pytest.mark.parametrize("amount", ["300.0", '"300"', "1e3", "true", "false", "null", "[300]"])
def test_amount_must_be_a_json_integer(api_client: Client, mayor_key: str, amount: str) -> None:
    response = post_raw(api_client, mayor_key, RAW_BODY.format(amount=amount))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert "amount" in response.json()["fields"]
    assert Payment.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_duplicate_keys_are_refused(api_client: Client, mayor_key: str) -> None:
    raw = (
        '{"reference": "100000000009", "amount": 1, "amount": 300000,'
        ' "return_url": "http://s.test/r"}'
    )
    response = post_raw(api_client, mayor_key, raw)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "amount" in body["fields"]["body"][0]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        '{"reference": "1000\\u00000009", "amount": 300, "return_url": "http://s.test/r"}',
        '{"reference": "100000000009", "amount": 300, "return_url": "http://s.test/\\u0000"}',
        '{"reference": "100000000009", "amount": 300, "return_url": "http://s.test/r",'
        ' "meta\\u0000": 1}',
    ],
)
def test_a_nul_character_anywhere_is_refused(api_client: Client, mayor_key: str, raw: str) -> None:
    # PostgreSQL cannot store NUL in text: without this check it was a 500 there.
    response = post_raw(api_client, mayor_key, raw)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert Payment.objects.count() == 0


def test_a_nul_character_in_an_optional_body_is_refused(api_client: Client, mayor_key: str) -> None:
    payment_id = post(api_client, mayor_key, BODY).json()["id"]
    response = post_raw(
        api_client,
        mayor_key,
        '{"language": "e\\u0000n"}',
        f"/api/v1/payments/{payment_id}/checkout",
    )
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("due_at", [1798761600, 1.5, True])
def test_due_at_must_be_iso_text(api_client: Client, mayor_key: str, due_at: object) -> None:
    response = post(api_client, mayor_key, {**BODY, "due_at": due_at})
    assert response.status_code == 422
    assert "due_at" in response.json()["fields"]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("field", ["amount", "expected_refundable_amount"])
@pytest.mark.parametrize("value", ["100.0", '"100"', "true", "1e2"])
def test_refund_money_fields_are_strict_integers(
    api_client: Client, mayor_key: str, field: str, value: str
) -> None:
    created = post(api_client, mayor_key, BODY).json()
    payment = Payment.objects.get(public_id=created["id"])
    Payment.objects.filter(pk=payment.pk).update(status="succeeded")
    payment.attempts.create(method="card", status="succeeded")
    fields = {"amount": "100", "expected_refundable_amount": "600", field: value}
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    response = post_raw(api_client, mayor_key, raw, f"/api/v1/payments/{created['id']}/refunds")
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert Refund.objects.count() == 0
