"""Concurrent requests with one Idempotency-Key (issue #9 item 9), in real
concurrent transactions on PostgreSQL (SQLite serialises every writer, so
there is nothing to race there): one key and body always get one answer."""

import json
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from madoguchi.kessai.payments.models import CheckoutToken, IdempotencyRecord, Payment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]

THREADS = 6
ROUNDS = 3


def at_once(request: Any, count: int = THREADS) -> list[tuple[int, dict[str, Any]]]:
    """``count`` clients send ``request(client, index)`` at the same moment,
    each on its own thread and database connection."""
    barrier = threading.Barrier(count)
    answers: list[tuple[int, dict[str, Any]]] = [(0, {})] * count

    def run(index: int) -> None:
        client = Client(HTTP_HOST="kessai.test")
        try:
            barrier.wait()
            response = request(client, index)
            answers[index] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def create(client: Client, api_key: str, reference: str, key: str) -> Any:
    body = {"reference": reference, "amount": 600, "return_url": "http://shinsei.test/r"}
    return client.post(
        "/api/v1/payments",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key},
    )


def test_one_key_sent_at_once_creates_one_payment_and_gets_one_answer(demo: Any) -> None:
    api_key = demo["merchants"]["mayor"]["api_key"]
    for round_ in range(ROUNDS):
        reference = f"77000000000{round_}"
        answers = at_once(
            lambda client, _, reference=reference, key=f"same-{round_}": create(
                client, api_key, reference, key
            )
        )

        assert {status for status, _ in answers} == {201}, answers
        assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
        assert Payment.objects.filter(reference=reference).count() == 1
        assert IdempotencyRecord.objects.filter(key=f"same-{round_}").count() == 1


def test_one_checkout_key_sent_at_once_issues_one_link(demo: Any) -> None:
    api_key = demo["merchants"]["mayor"]["api_key"]
    payment_id = create(Client(HTTP_HOST="kessai.test"), api_key, "770000000100", "p").json()["id"]

    answers = at_once(
        lambda client, _: client.post(
            f"/api/v1/payments/{payment_id}/checkout",
            content_type="application/json",
            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "checkout-1"},
        )
    )

    assert {status for status, _ in answers} == {201}, answers
    assert len({body["url"] for _, body in answers}) == 1
    # The link created with the payment, and one for the key.
    assert CheckoutToken.objects.filter(payment__public_id=payment_id).count() == 2


def test_different_keys_for_one_reference_create_one_payment(demo: Any) -> None:
    api_key = demo["merchants"]["mayor"]["api_key"]
    answers = at_once(lambda client, i: create(client, api_key, "770000000200", f"k-{i}"))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (THREADS - 1), answers
    assert {body["code"] for status, body in answers if status == 409} == {"reference_in_use"}
    assert Payment.objects.filter(reference="770000000200").count() == 1
