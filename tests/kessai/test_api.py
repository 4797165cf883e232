"""Merchant API v1: creation, idempotency, validation, authentication."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.kessai.merchants.models import ApiKey
from madoguchi.kessai.payments.models import CheckoutToken, IdempotencyRecord, Payment

BODY = {"reference": "100000000001", "amount": 600, "return_url": "http://shinsei.test/r"}


def post(
    client: Client,
    api_key: str,
    body: dict[str, Any],
    key: str | None = "k-1",
    path: str = "/api/v1/payments",
) -> Any:
    headers = {"Authorization": f"Bearer {api_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def mayor_key(demo: dict[str, Any]) -> str:
    return str(demo["merchants"]["mayor"]["api_key"])


def test_create_payment_returns_payment_with_single_use_link(
    api_client: Client, mayor_key: str
) -> None:
    response = post(api_client, mayor_key, BODY)
    assert response.status_code == 201
    data = response.json()
    assert data["reference"] == "100000000001"
    assert data["amount"] == 600
    assert data["status"] == "created"
    assert data["method"] is None
    assert data["next_url"].startswith("http://kessai.test/checkout/")
    payment = Payment.objects.get(public_id=data["id"])
    assert payment.merchant.code == "mayor"


def test_a_payment_read_back_matches_the_answer_that_created_it(
    api_client: Client, mayor_key: str
) -> None:
    created = post(api_client, mayor_key, BODY).json()
    headers = {"Authorization": f"Bearer {mayor_key}"}
    got = api_client.get(f"/api/v1/payments/{created['id']}", headers=headers).json()
    listed = api_client.get("/api/v1/payments", headers=headers).json()["results"]
    assert got == {**created, "next_url": None}
    assert listed == [got]
    assert got["created_at"].endswith("Z")


def test_extra_field_is_rejected_with_422_and_creates_nothing(
    api_client: Client, mayor_key: str
) -> None:
    response = post(api_client, mayor_key, {**BODY, "name": "藤沢 太郎"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "name" in body["fields"]
    assert Payment.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_same_key_same_body_replays_first_answer(api_client: Client, mayor_key: str) -> None:
    first = post(api_client, mayor_key, BODY)
    second = post(api_client, mayor_key, BODY)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert Payment.objects.count() == 1


def test_same_key_different_body_is_409(api_client: Client, mayor_key: str) -> None:
    post(api_client, mayor_key, BODY)
    response = post(api_client, mayor_key, {**BODY, "amount": 900})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Payment.objects.values_list("amount", flat=True)) == [600]


def test_same_key_for_another_reference_is_409_and_creates_nothing(
    api_client: Client, mayor_key: str
) -> None:
    """The second payment's rows would be written (its reference is free) but
    the key is taken: all of them are rolled back with the refused claim."""
    first = post(api_client, mayor_key, BODY).json()
    response = post(api_client, mayor_key, {**BODY, "reference": "100000000002"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Payment.objects.values_list("public_id", flat=True)) == [first["id"]]
    assert IdempotencyRecord.objects.get().response_body == first


def test_a_key_whose_day_has_passed_is_used_again(api_client: Client, mayor_key: str) -> None:
    first = post(api_client, mayor_key, BODY).json()
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    second = post(api_client, mayor_key, {**BODY, "reference": "100000000002"})
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert IdempotencyRecord.objects.get().response_body == second.json()
    assert Payment.objects.count() == 2


def test_post_without_idempotency_key_is_refused(api_client: Client, mayor_key: str) -> None:
    response = post(api_client, mayor_key, BODY, key=None)
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_second_live_payment_for_same_reference_is_refused(
    api_client: Client, mayor_key: str
) -> None:
    post(api_client, mayor_key, BODY, key="a")
    response = post(api_client, mayor_key, BODY, key="b")
    assert response.status_code == 409
    assert response.json()["code"] == "reference_in_use"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("auth", ["", "Bearer kessai_wrong", "Basic abc"])
def test_unauthenticated_requests_are_401(api_client: Client, demo: Any, auth: str) -> None:
    response = api_client.get("/api/v1/payments", headers={"Authorization": auth})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_merchant_cannot_see_another_merchants_payment(
    api_client: Client, demo: dict[str, Any], mayor_key: str
) -> None:
    created = post(api_client, mayor_key, BODY).json()
    other_key = demo["merchants"]["agri-committee"]["api_key"]
    response = api_client.get(
        f"/api/v1/payments/{created['id']}", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert response.status_code == 404
    own = api_client.get(
        f"/api/v1/payments/{created['id']}", headers={"Authorization": f"Bearer {mayor_key}"}
    )
    assert own.status_code == 200
    assert own.json()["next_url"] is None


def test_list_filters_by_reference(api_client: Client, mayor_key: str) -> None:
    post(api_client, mayor_key, BODY, key="a")
    post(api_client, mayor_key, {**BODY, "reference": "100000000002"}, key="b")
    response = api_client.get(
        "/api/v1/payments",
        {"reference": "100000000002"},
        headers={"Authorization": f"Bearer {mayor_key}"},
    )
    assert [p["reference"] for p in response.json()["results"]] == ["100000000002"]


def test_checkout_issues_a_fresh_link(api_client: Client, mayor_key: str) -> None:
    created = post(api_client, mayor_key, BODY).json()
    response = post(
        api_client, mayor_key, {}, key="c-1", path=f"/api/v1/payments/{created['id']}/checkout"
    )
    assert response.status_code == 201
    assert response.json()["url"] != created["next_url"]


def test_a_refused_checkout_stores_no_answer_under_its_key(
    api_client: Client, mayor_key: str
) -> None:
    """The link and the record are written together only when the payment is
    payable: a refusal leaves the key free, and nothing is replayed."""
    created = post(api_client, mayor_key, BODY).json()
    path = f"/api/v1/payments/{created['id']}/checkout"
    Payment.objects.update(status="cancelled")
    refused = post(api_client, mayor_key, {}, key="c-1", path=path)
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_not_payable"
    assert not IdempotencyRecord.objects.filter(key="c-1").exists()
    assert CheckoutToken.objects.count() == 1  # the create's own link only


def test_a_checkout_key_used_for_another_payment_is_409_and_issues_no_link(
    api_client: Client, mayor_key: str
) -> None:
    first = post(api_client, mayor_key, BODY, key="a").json()
    second = post(api_client, mayor_key, {**BODY, "reference": "100000000002"}, key="b").json()
    issued = post(
        api_client, mayor_key, {}, key="c-1", path=f"/api/v1/payments/{first['id']}/checkout"
    )
    assert issued.status_code == 201
    again = post(
        api_client, mayor_key, {}, key="c-1", path=f"/api/v1/payments/{first['id']}/checkout"
    )
    assert again.json() == issued.json()
    other = post(
        api_client, mayor_key, {}, key="c-1", path=f"/api/v1/payments/{second['id']}/checkout"
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert CheckoutToken.objects.count() == 3  # two creates' links and one checkout


def test_api_keys_are_stored_only_as_hashes(demo: dict[str, Any]) -> None:
    raw = demo["merchants"]["mayor"]["api_key"]
    stored = list(ApiKey.objects.values_list("prefix", "key_hash"))
    assert all(raw not in (prefix, key_hash) for prefix, key_hash in stored)
    assert any(key_hash == ApiKey.hash_key(raw) for _, key_hash in stored)


def test_openapi_document_is_served_and_matches_the_repository(api_client: Client) -> None:
    from pathlib import Path

    response = api_client.get("/api/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"].startswith("3.1")
    kept = json.loads(Path("docs/openapi.json").read_text())
    assert served == kept, "docs/openapi.json is stale: run scripts/export-openapi"


def test_checkout_hands_over_the_citizens_language(api_client: Client, mayor_key: str) -> None:
    created = post(api_client, mayor_key, BODY).json()
    path = f"/api/v1/payments/{created['id']}/checkout"
    english = post(api_client, mayor_key, {"language": "en"}, key="c-en", path=path)
    assert english.status_code == 201
    assert english.json()["url"].endswith("/?lang=en")
    # Without a body (older clients) the link is as before.
    plain = api_client.post(
        path,
        "",
        content_type="application/json",
        headers={"Authorization": f"Bearer {mayor_key}", "Idempotency-Key": "c-none"},
    )
    assert plain.status_code == 201
    assert plain.json()["url"].endswith("/")
    wrong = post(api_client, mayor_key, {"language": "fr"}, key="c-fr", path=path)
    assert wrong.status_code == 422
    # The link opens the page in that language.
    payer = Client(HTTP_HOST="kessai.test")
    page = payer.get(english.json()["url"].removeprefix("http://kessai.test"), follow=True)
    assert '<html lang="en">' in page.content.decode()
