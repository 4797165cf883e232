"""The payment lifecycle through the merchant API: cancel, refunds with the
expected-refundable precondition, the event list, search, voids, secret
rotation and manual resend."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.contract.signing import verify
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.merchants.secrets import (
    notification_secret_retire_previous,
    notification_secret_rotate,
)
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import (
    Attempt,
    CheckoutToken,
    DailySummary,
    Notification,
    Payment,
    Refund,
)
from madoguchi.kessai.providers.base import ProviderResult
from madoguchi.simulators import acquirer
from tests.conftest import CARD_DECLINED, CARD_OK
from tests.support.journey import pay_by_card
from tests.support.outage import host_down

BODY = {"reference": "500000000001", "amount": 1000, "return_url": "http://shinsei.test/r"}


class Api:
    """The merchant's side of contract v1, over the test client."""

    def __init__(self, key: str) -> None:
        self.client = Client(HTTP_HOST="kessai.test")
        self.headers = {"Authorization": f"Bearer {key}"}
        self.counter = 0

    def post(self, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
        self.counter += 1
        return self.client.post(
            "/api/v1" + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers={**self.headers, "Idempotency-Key": key or f"k-{self.counter}"},
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get("/api/v1" + path, params or {}, headers=self.headers)


@pytest.fixture
def api(demo: dict[str, Any]) -> Api:
    return Api(str(demo["merchants"]["mayor"]["api_key"]))


def create(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.post("/payments", {**BODY, **changes})
    assert response.status_code == 201, response.content
    return dict(response.json())


def pay(created: dict[str, Any], number: str = CARD_OK) -> Client:
    payer = Client(HTTP_HOST="kessai.test")
    response = payer.get(created["next_url"].removeprefix("http://kessai.test"))
    assert response.status_code == 302
    pay_by_card(payer, str(response["Location"]), number)
    return payer


def paid(api: Api, **changes: Any) -> dict[str, Any]:
    created = create(api, **changes)
    pay(created)
    data: dict[str, Any] = api.get(f"/payments/{created['id']}").json()
    assert data["status"] == "succeeded"
    return data


# --- cancel ------------------------------------------------------------------


def test_cancel_ends_an_unpaid_payment_and_notifies(api: Api) -> None:
    created = create(api)
    response = api.post(f"/payments/{created['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert list(Notification.objects.values_list("type", flat=True)) == ["payment.cancelled"]
    # The link handed out at creation no longer opens the page.
    payer = Client(HTTP_HOST="kessai.test")
    assert payer.get(created["next_url"].removeprefix("http://kessai.test")).status_code == 404
    # Nor can a fresh one be had.
    assert api.post(f"/payments/{created['id']}/checkout").status_code == 409


def test_cancel_twice_is_harmless(api: Api) -> None:
    created = create(api)
    api.post(f"/payments/{created['id']}/cancel")
    again = api.post(f"/payments/{created['id']}/cancel")
    assert (again.status_code, again.json()["status"]) == (200, "cancelled")
    assert Notification.objects.filter(type="payment.cancelled").count() == 1


def test_cancelled_reference_can_be_requested_again(api: Api) -> None:
    created = create(api)
    api.post(f"/payments/{created['id']}/cancel")
    assert api.post("/payments", BODY).status_code == 201


def test_succeeded_payment_cannot_be_cancelled(api: Api) -> None:
    data = paid(api)
    response = api.post(f"/payments/{data['id']}/cancel")
    assert (response.status_code, response.json()["code"]) == (409, "payment_not_cancellable")
    assert Payment.objects.get(public_id=data["id"]).status == "succeeded"


def test_cancel_is_refused_while_an_attempt_is_open(api: Api) -> None:
    created = create(api)
    payment = Payment.objects.get(public_id=created["id"])
    Attempt.objects.create(payment=payment, method="card", status="unknown")
    response = api.post(f"/payments/{created['id']}/cancel")
    assert (response.status_code, response.json()["code"]) == (409, "attempt_in_progress")
    payment.refresh_from_db()
    assert payment.status == "created"
    assert not Notification.objects.exists()


def test_declined_attempt_does_not_block_cancel(api: Api) -> None:
    created = create(api)
    pay(created, CARD_DECLINED)
    assert api.post(f"/payments/{created['id']}/cancel").json()["status"] == "cancelled"


# --- refunds -----------------------------------------------------------------


def refund(api: Api, payment_id: str, amount: int, expected: int) -> Any:
    return api.post(
        f"/payments/{payment_id}/refunds",
        {"amount": amount, "expected_refundable_amount": expected},
    )


def test_full_refund_goes_through_the_acquirer_and_is_counted(api: Api) -> None:
    data = paid(api)
    assert (data["refundable_amount"], data["refunded_amount"]) == (1000, 0)
    response = refund(api, data["id"], 1000, 1000)
    assert response.status_code == 201
    body = response.json()
    assert (body["amount"], body["status"], body["payment_id"]) == (1000, "succeeded", data["id"])
    assert body["succeeded_at"] is not None
    after = api.get(f"/payments/{data['id']}").json()
    assert (after["status"], after["refunded_amount"], after["refundable_amount"]) == (
        "refunded",
        1000,
        0,
    )
    [acquirer_refund] = acquirer.STATE.refunds.values()
    assert (acquirer_refund["amount"], acquirer_refund["status"]) == (1000, "succeeded")
    row = DailySummary.objects.get()
    assert (row.succeeded_amount, row.refunded_count, row.refunded_amount) == (1000, 1, 1000)
    notification = Notification.objects.get(type="payment.refunded")
    event = json.loads(notification.body)
    assert event["data"]["refund"]["id"] == body["id"]
    assert event["data"]["payment"]["status"] == "refunded"


def test_partial_refunds_add_up_and_the_precondition_guards_each(api: Api) -> None:
    data = paid(api)
    first = refund(api, data["id"], 300, 1000)
    assert first.json()["status"] == "succeeded"
    # A retry that still believes 1,000 is refundable is refused, not repeated.
    stale = refund(api, data["id"], 300, 1000)
    assert stale.status_code == 409
    assert stale.json()["code"] == "refund_amount_mismatch"
    assert "700" in stale.json()["message"]
    second = refund(api, data["id"], 700, 700)
    assert second.status_code == 201
    assert Refund.objects.filter(status="succeeded").count() == 2
    assert len(acquirer.STATE.refunds) == 2
    payment = Payment.objects.get(public_id=data["id"])
    assert (payment.status, payment.refunded_amount, payment.refund_pending_amount) == (
        "refunded",
        1000,
        0,
    )
    assert DailySummary.objects.get().refunded_amount == 1000


def test_refund_larger_than_refundable_is_refused(api: Api) -> None:
    data = paid(api)
    response = refund(api, data["id"], 1001, 1000)
    assert (response.status_code, response.json()["code"]) == (409, "refund_amount_unavailable")
    assert not Refund.objects.exists()
    assert acquirer.STATE.refunds == {}


def test_unpaid_payment_cannot_be_refunded(api: Api) -> None:
    created = create(api)
    response = refund(api, created["id"], 100, 0)
    assert (response.status_code, response.json()["code"]) == (409, "payment_not_refundable")
    assert not Refund.objects.exists()


def test_refund_request_body_is_strict(api: Api) -> None:
    data = paid(api)
    response = api.post(
        f"/payments/{data['id']}/refunds",
        {"amount": 100, "expected_refundable_amount": 1000, "reason": "氏名"},
    )
    assert response.status_code == 422
    assert not Refund.objects.exists()


def test_same_idempotency_key_refunds_once(api: Api) -> None:
    data = paid(api)
    body = {"amount": 100, "expected_refundable_amount": 1000}
    first = api.post(f"/payments/{data['id']}/refunds", body, key="r-1")
    second = api.post(f"/payments/{data['id']}/refunds", body, key="r-1")
    assert second.json() == first.json()
    assert Refund.objects.count() == 1
    assert len(acquirer.STATE.refunds) == 1


def test_refund_with_acquirer_down_stays_pending_and_reserved_until_settled(api: Api) -> None:
    data = paid(api)
    with host_down("acquirer.test"):
        response = refund(api, data["id"], 400, 1000)
    assert (response.status_code, response.json()["status"]) == (201, "pending")
    # The reserved 400 cannot be refunded by anyone else meanwhile.
    assert api.get(f"/payments/{data['id']}").json()["refundable_amount"] == 600
    assert refund(api, data["id"], 100, 1000).json()["code"] == "refund_amount_mismatch"
    assert DailySummary.objects.get().refunded_amount == 0
    # The janitor sends it once the acquirer is back.
    Refund.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.refunds_settle_pending() == 1
    after = api.get(f"/payments/{data['id']}").json()
    assert (after["status"], after["refunded_amount"], after["refundable_amount"]) == (
        "succeeded",
        400,
        600,
    )
    assert DailySummary.objects.get().refunded_amount == 400


def test_refund_refused_by_acquirer_releases_the_reservation(api: Api) -> None:
    data = paid(api)
    payment = Payment.objects.get(public_id=data["id"])
    attempt = payment.attempts.get()
    # The acquirer has no record of the capture (e.g. it was voided).
    acquirer.STATE.results.clear()
    response = refund(api, data["id"], 1000, 1000)
    assert response.json()["status"] == "failed"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount, payment.refund_pending_amount) == (
        "succeeded",
        0,
        0,
    )
    assert Refund.objects.get().attempt == attempt
    assert not Notification.objects.filter(type="payment.refunded").exists()
    assert DailySummary.objects.get().refunded_amount == 0


def test_refund_finish_twice_counts_once(api: Api) -> None:
    data = paid(api)
    payment = Payment.objects.get(public_id=data["id"])
    pending = services.refund_create(payment=payment, amount=200, expected_refundable_amount=1000)
    from madoguchi.kessai.providers.base import RefundResult

    services.refund_finish(refund=pending, result=RefundResult(succeeded=True))
    services.refund_finish(refund=pending, result=RefundResult(succeeded=True))
    payment.refresh_from_db()
    assert payment.refunded_amount == 200
    assert DailySummary.objects.get().refunded_amount == 200
    assert Notification.objects.filter(type="payment.refunded").count() == 1


# --- events, list, search ------------------------------------------------------


def test_event_list_tells_the_payments_history(api: Api) -> None:
    created = create(api)
    pay(created, CARD_DECLINED)
    payer = Client(HTTP_HOST="kessai.test")
    link = api.post(f"/payments/{created['id']}/checkout").json()["url"]
    location = payer.get(link.removeprefix("http://kessai.test"))["Location"]
    pay_by_card(payer, location, CARD_OK)
    refund(api, created["id"], 1000, 1000)
    response = api.get(f"/payments/{created['id']}/events")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["type"] for e in events] == [
        "payment.created",
        "attempt.started",
        "attempt.declined",
        "attempt.started",
        "payment.succeeded",
        "refund.requested",
        "payment.refunded",
    ]
    assert events[2]["data"] == {"code": "card_declined"}
    assert events[6]["data"]["amount"] == 1000
    assert "4242" not in response.content.decode()


def test_event_list_of_another_merchants_payment_is_404(api: Api, demo: Any) -> None:
    created = create(api)
    other = Api(str(demo["merchants"]["agri-committee"]["api_key"]))
    assert other.get(f"/payments/{created['id']}/events").status_code == 404


def test_list_filters_by_status_method_and_creation_time(api: Api) -> None:
    open_one = create(api, reference="500000000010")
    paid_one = paid(api, reference="500000000011")
    cancelled = create(api, reference="500000000012")
    api.post(f"/payments/{cancelled['id']}/cancel")

    def ids(**params: Any) -> list[str]:
        return [p["id"] for p in api.get("/payments", params).json()["results"]]

    assert ids(status="succeeded") == [paid_one["id"]]
    assert ids(method="card") == [paid_one["id"]]
    assert ids(status="cancelled") == [cancelled["id"]]
    assert ids(limit=1) == [cancelled["id"]]
    assert set(ids()) == {open_one["id"], paid_one["id"], cancelled["id"]}
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(created_from=future) == []
    assert len(ids(created_to=future)) == 3
    assert api.get("/payments", {"limit": 0}).status_code == 422
    assert api.get("/payments", {"status": "bogus"}).status_code == 422


# --- expiry, links, voids ------------------------------------------------------------


def test_expiry_waits_for_an_open_attempt(api: Api) -> None:
    created = create(api)
    payment = Payment.objects.get(public_id=created["id"])
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    attempt = Attempt.objects.create(payment=payment, method="card", status="requires_action")
    assert services.payments_expire_due() == 0
    Attempt.objects.filter(pk=attempt.pk).update(status="declined")
    assert services.payments_expire_due() == 1
    payment.refresh_from_db()
    assert payment.status == "expired"


def test_old_checkout_links_are_pruned(api: Api) -> None:
    create(api)
    CheckoutToken.objects.update(expires_at=timezone.now() - timedelta(days=2))
    create(api, reference="500000000099")
    assert services.checkout_tokens_prune() == 1
    assert CheckoutToken.objects.count() == 1


def test_charge_on_an_ended_payment_is_voided_at_the_acquirer(api: Api, run_tasks: Any) -> None:
    created = create(api)
    payment = Payment.objects.get(public_id=created["id"])
    attempt = Attempt.objects.create(payment=payment, method="card")
    key = services.attempt_key(attempt)
    acquirer.STATE.results[key] = {"id": "auth_x", "status": "captured", "amount": 1000}
    Payment.objects.filter(pk=payment.pk).update(status="cancelled")
    services.attempt_finish(attempt=attempt, result=ProviderResult(succeeded=True))
    run_tasks()
    assert acquirer.STATE.results[key]["status"] == "voided"
    assert payment.events.filter(type="attempt.voided").count() == 1
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    assert not DailySummary.objects.exists()


# --- notification secrets and resend -----------------------------------------


def test_rotation_signs_with_both_secrets_until_the_old_one_is_retired(
    api: Api, run_tasks: Any
) -> None:
    merchant = Merchant.objects.get(code="mayor")
    old = merchant.notification_secret
    new = notification_secret_rotate(merchant=merchant)
    assert (merchant.notification_secret, merchant.previous_notification_secret) == (new, old)
    from madoguchi.contract.signing import sign

    body = b"{}"
    header = sign(body, merchant.signing_secrets())
    assert header.count("v1=") == 2
    assert verify(header, body, [old])
    assert verify(header, body, [new])
    notification_secret_retire_previous(merchant=merchant)
    header = sign(body, merchant.signing_secrets())
    assert header.count("v1=") == 1
    assert verify(header, body, [new])
    with pytest.raises(Exception, match="no signature matches"):
        verify(header, body, [old])


def test_manual_resend_delivers_the_same_event_again(api: Api, run_tasks: Any) -> None:
    created = create(api)
    api.post(f"/payments/{created['id']}/cancel")
    with host_down("shinsei.test"):
        run_tasks()
    notification = Notification.objects.get()
    notification.refresh_from_db()
    assert notification.status == "pending"
    Notification.objects.filter(pk=notification.pk).update(status="gave_up")
    body_before = notification.body
    services.notification_resend(notification=notification)
    run_tasks()
    notification.refresh_from_db()
    assert notification.body == body_before
    # The first try met the outage; the resend reached Shinsei, which refuses
    # it (400) only because no application of its own knows this payment.
    assert [(d.response_status, d.error) for d in notification.deliveries.order_by("id")] == [
        (None, "ConnectError"),
        (400, ""),
    ]


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "2026-11-26T10:00:00"],
)
def test_times_out_of_range_or_without_offset_are_refused_with_422(api: Api, when: str) -> None:
    assert api.get("/payments", {"created_to": when}).status_code == 422
    assert api.post("/payments", {**BODY, "due_at": when}).status_code == 422
    assert not Payment.objects.exists()


def test_times_with_any_offset_are_kept_in_utc(api: Api) -> None:
    # PostgreSQL refuses offsets like +18:26 (schemathesis found it): normalised first.
    assert api.get("/payments", {"created_to": "0176-11-27T08:48:32+18:26"}).status_code == 200
    created = create(api, due_at="2026-12-01T09:00:00+09:00")
    assert created["due_at"] == "2026-12-01T00:00:00Z"
    assert [
        p["id"]
        for p in api.get("/payments", {"created_from": "2000-01-01T00:00:00+14:00"}).json()[
            "results"
        ]
    ] == [created["id"]]
