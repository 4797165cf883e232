"""Shinsei's calls to Kessai spend the agency key's shared budget: anonymous
requests never cost a call, the owner's return from Kessai costs at most one
call per interval, and when Kessai is unreachable or answers 429 the citizen
is told (in their language) that payment is briefly unavailable and nothing
was charged; after a 429 Shinsei pauses for Retry-After."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from madoguchi.shinsei.applications.models import Application
from tests.conftest import staff_client
from tests.support.journey import accept, submit_application
from tests.support.outage import host_down
from tests.support.transport import InProcessTransport

UNAVAILABLE = "ただいまお支払いの受付が一時的にできません。料金は請求されていません。"


@pytest.fixture
def kessai_calls() -> Iterator[list[str]]:
    """Every request Shinsei sends to Kessai's API, as "METHOD path"."""
    calls: list[str] = []
    real = InProcessTransport.handle_request

    def counting(self: InProcessTransport, request: Any) -> Any:
        if request.url.host == "kessai.test" and request.url.path.startswith("/api/"):
            calls.append(f"{request.method} {request.url.path}")
        return real(self, request)

    cache.clear()
    with mock.patch.object(InProcessTransport, "handle_request", counting):
        yield calls
    cache.clear()


@pytest.fixture
def unpaid(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> Application:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    return application


def test_anonymous_payment_returns_cost_no_kessai_call(
    unpaid: Application, kessai_calls: list[str]
) -> None:
    stranger = Client(HTTP_HOST="shinsei.test")
    for _ in range(50):
        response = stranger.get(f"/applications/{unpaid.reference}/payment-return")
        assert response["Location"] == "/inquiry"
    unknown = stranger.get("/applications/999999999999/payment-return")
    assert unknown["Location"] == "/inquiry"
    assert kessai_calls == []


def test_owner_return_asks_kessai_at_most_once_per_interval(
    unpaid: Application, citizen: Client, kessai_calls: list[str]
) -> None:
    for _ in range(5):
        response = citizen.get(f"/applications/{unpaid.reference}/payment-return")
        assert response["Location"] == f"/applications/{unpaid.reference}/"
    assert kessai_calls == [f"GET /api/v1/payments/{unpaid.kessai_payment_id}"]
    Application.objects.filter(pk=unpaid.pk).update(
        payment_checked_at=timezone.now() - timedelta(seconds=31)
    )
    citizen.get(f"/applications/{unpaid.reference}/payment-return")
    assert len(kessai_calls) == 2


def test_owner_return_while_kessai_is_down_shows_the_status(
    unpaid: Application, citizen: Client
) -> None:
    with host_down("kessai.test"):
        response = citizen.get(f"/applications/{unpaid.reference}/payment-return")
        assert response["Location"] == f"/applications/{unpaid.reference}/"
        assert citizen.get(response["Location"]).status_code == 200


def test_pay_while_kessai_is_unreachable_says_so_and_changes_nothing(
    unpaid: Application, citizen: Client
) -> None:
    with host_down("kessai.test"):
        response = citizen.post(f"/applications/{unpaid.reference}/pay")
    assert response["Location"] == f"/applications/{unpaid.reference}/"
    page = citizen.get(response["Location"]).content.decode()
    assert UNAVAILABLE in page
    assert 'action="/applications/' in page  # 支払う is still offered
    unpaid.refresh_from_db()
    assert unpaid.payment_status == "unpaid"


def test_pay_in_english_while_kessai_is_unreachable(unpaid: Application, citizen: Client) -> None:
    citizen.get("/language/en?next=/")
    with host_down("kessai.test"):
        response = citizen.post(f"/applications/{unpaid.reference}/pay")
    page = citizen.get(response["Location"]).content.decode()
    assert "Payment is briefly unavailable. You have not been charged." in page


def test_after_a_429_shinsei_pauses_for_retry_after(
    unpaid: Application, citizen: Client, kessai_calls: list[str]
) -> None:
    # Given: the agency's key has used up its budget at Kessai
    with mock.patch("madoguchi.kessai.payments.api.api_key_within_rate", return_value=False):
        response = citizen.post(f"/applications/{unpaid.reference}/pay")
        # Then: the citizen gets the message, not a 500
        assert UNAVAILABLE in citizen.get(response["Location"]).content.decode()
        assert len(kessai_calls) == 1
        # And: while the Retry-After lasts, Shinsei does not ask again
        citizen.post(f"/applications/{unpaid.reference}/pay")
        citizen.get(f"/applications/{unpaid.reference}/payment-return")
        assert len(kessai_calls) == 1
    # When: the pause is over, paying works
    cache.clear()
    response = citizen.post(f"/applications/{unpaid.reference}/pay")
    assert response["Location"].startswith("http://kessai.test/checkout/")


def test_pay_after_the_due_date_says_so(unpaid: Application, citizen: Client) -> None:
    from madoguchi.kessai.payments.models import Payment

    Payment.objects.filter(public_id=unpaid.kessai_payment_id).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    response = citizen.post(f"/applications/{unpaid.reference}/pay")
    page = citizen.get(response["Location"]).content.decode()
    assert "お支払い期限を過ぎたため、お支払いいただけません" in page
