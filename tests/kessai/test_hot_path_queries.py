"""Queries and transactions per hot operation (issue #10). The numbers are
exact on purpose: a query added to the hot path fails here, and whoever adds
it decides (and says in docs/benchmarks.md) whether it is worth its cost."""

import json
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client

from madoguchi.kessai.payments import tasks
from madoguchi.kessai.payments.models import Notification
from tests.conftest import CARD_OK
from tests.support.queries import Counted, counted

BODY = {"reference": "100000000001", "amount": 600, "return_url": "http://shinsei.test/r"}


@pytest.fixture
def auth(demo: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo['merchants']['mayor']['api_key']}"}


def create(api_client: Client, auth: dict[str, str], key: str = "k-1") -> Any:
    return api_client.post(
        "/api/v1/payments",
        json.dumps(BODY),
        content_type="application/json",
        headers={**auth, "Idempotency-Key": key},
    )


def assert_cost(cost: Counted, *, queries: int, transactions: int) -> None:
    assert (cost.queries, cost.transactions) == (queries, transactions), str(cost)


# On PostgreSQL the payment, its event, its checkout link and the answer
# stored under the Idempotency-Key are one INSERT with data-modifying CTEs;
# elsewhere three INSERTs and the idempotency record's.
CREATE_WRITES = 1 if connection.vendor == "postgresql" else 4


def test_create_payment_is_two_queries_in_one_transaction(
    api_client: Client, auth: dict[str, str]
) -> None:
    # The key look-up (not seen before in this process), then the writes.
    with counted() as cost:
        response = create(api_client, auth)
    assert response.status_code == 201
    assert_cost(cost, queries=1 + CREATE_WRITES, transactions=1)


def test_a_key_seen_in_the_last_seconds_is_not_looked_up_again(
    api_client: Client, auth: dict[str, str]
) -> None:
    create(api_client, auth)
    with counted() as cost:
        response = create(api_client, auth, key="k-2")
    assert response.status_code == 409  # the reference is live: only the writes were tried
    assert not any("kessai_api_key" in sql for sql in cost.sql), str(cost)


def test_a_replayed_create_costs_its_rolled_back_attempt_and_one_read(
    api_client: Client, auth: dict[str, str]
) -> None:
    first = create(api_client, auth)
    with counted() as cost:
        again = create(api_client, auth)
    assert again.json() == first.json()
    # The refused INSERT of a second live payment, the record (the key was
    # seen a moment ago).
    assert_cost(cost, queries=2, transactions=1)


def test_get_payment_is_one_query_and_no_transaction(
    api_client: Client, auth: dict[str, str]
) -> None:
    payment_id = create(api_client, auth).json()["id"]
    with counted() as cost:
        response = api_client.get(f"/api/v1/payments/{payment_id}", headers=auth)
    assert response.status_code == 200
    # The payment (the key was seen a moment ago).
    assert_cost(cost, queries=1, transactions=0)


def test_create_checkout_is_one_statement_in_one_transaction(
    api_client: Client, auth: dict[str, str]
) -> None:
    payment_id = create(api_client, auth).json()["id"]
    with counted() as cost:
        response = api_client.post(
            f"/api/v1/payments/{payment_id}/checkout",
            content_type="application/json",
            headers={**auth, "Idempotency-Key": "c-1"},
        )
    assert response.status_code == 201
    # The link, inserted only if the payment is the merchant's and payable
    # (INSERT … SELECT), and the idempotency record only if the link was: one
    # statement on PostgreSQL, two elsewhere.
    assert_cost(cost, queries=1 if connection.vendor == "postgresql" else 2, transactions=1)


def test_opening_the_payment_page_and_paying_by_card(
    api_client: Client, auth: dict[str, str], payer: Client
) -> None:
    link = create(api_client, auth).json()["next_url"].removeprefix("http://kessai.test")
    with counted() as redeem:
        page_path = payer.get(link)["Location"]
    # The link (read, then used by a conditional UPDATE); the new session.
    assert_cost(redeem, queries=4, transactions=1)

    with counted() as page:
        assert payer.get(page_path).status_code == 200
    # Session, payment, its open attempt (the merchant's language was noted
    # in the session when the link was opened).
    assert_cost(page, queries=3, transactions=0)

    with counted() as pay:
        response = payer.post(
            page_path + "card",
            {"card_number": CARD_OK, "exp_month": "12", "exp_year": "2031", "security_code": "123"},
        )
    assert response.status_code == 302
    # Session and payment (with its merchant, whose card connector the
    # provider needs); the attempt begins (the payment locked with "is an
    # attempt open?" in the same statement), committed before the acquirer is
    # called; the answer: attempt, payment, event, daily summary (the first of
    # the day inserts it), notification and its delivery task.
    assert_cost(pay, queries=14, transactions=3)

    with counted() as done:
        assert payer.get(response["Location"]).status_code == 200
    # Session and payment.
    assert_cost(done, queries=2, transactions=0)


def test_delivering_a_notification(
    api_client: Client, auth: dict[str, str], payer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = create(api_client, auth).json()["next_url"].removeprefix("http://kessai.test")
    page_path = payer.get(link)["Location"]
    payer.post(
        page_path + "card",
        {"card_number": CARD_OK, "exp_month": "12", "exp_year": "2031", "security_code": "123"},
    )
    notification = Notification.objects.get()
    # The merchant answers 200 at once (Shinsei's side is counted in tests/shinsei).
    receiver = httpx.MockTransport(lambda request: httpx.Response(200))
    monkeypatch.setattr(tasks, "kept_client", lambda: httpx.Client(transport=receiver))
    with counted() as cost:
        assert tasks.notification_deliver(notification.pk) is True
    # The lease, returning the notification with its merchant; then the
    # delivery record and the final status together: one statement on
    # PostgreSQL, two in a transaction elsewhere.
    if connection.vendor == "postgresql":
        assert_cost(cost, queries=2, transactions=0)
    else:
        assert_cost(cost, queries=3, transactions=1)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("delivered", 1)
    assert notification.delivered_at is not None
    delivery = notification.deliveries.get()
    assert (delivery.response_status, delivery.error) == (200, "")
