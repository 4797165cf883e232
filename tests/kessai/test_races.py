"""Refund, cancel and expiry raced against a payment completing, with real
concurrent transactions on PostgreSQL (SQLite serialises every writer, so
there is nothing to race there). Each round asserts that the money (what the
acquirer captured and refunded, what the daily summary counts) and the
statuses agree, whichever side won."""

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.errors import KessaiServiceError
from madoguchi.kessai.payments.models import Attempt, DailySummary, Payment, Refund
from madoguchi.kessai.providers.card.cards import CardDetails
from madoguchi.simulators import acquirer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]

ROUNDS = 6
CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2031, security_code="123")


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same moment in separate threads (and connections);
    return each one's result or the service error it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = action()
        except KessaiServiceError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def new_payment(reference: str, amount: int = 1000) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference=reference, amount=amount, return_url="http://shinsei.test/r"
        ),
    )


def captured_at_acquirer(payment: Payment) -> int:
    keys = {services.attempt_key(a) for a in payment.attempts.all()}
    return sum(
        r["amount"]
        for k, r in acquirer.STATE.results.items()
        if k in keys and r["status"] == "captured"
    )


def refunded_at_acquirer(payment: Payment) -> int:
    keys = {services.refund_key(r) for r in payment.refunds.all()}
    return sum(
        r["amount"]
        for k, r in acquirer.STATE.refunds.items()
        if k in keys and r["status"] == "succeeded"
    )


def ledger() -> tuple[int, int]:
    rows = DailySummary.objects.all()
    return sum(r.succeeded_amount for r in rows), sum(r.refunded_amount for r in rows)


def test_cancel_racing_a_card_payment(demo: Any) -> None:
    outcomes = set()
    for round_ in range(ROUNDS):
        payment = new_payment(f"600000000{round_:03d}")
        paid_result, cancel_result = race(
            partial(services.card_payment_pay, payment=payment, card=CARD),
            partial(services.payment_cancel, payment=payment),
        )
        payment.refresh_from_db()
        outcomes.add(payment.status)
        succeeded = payment.attempts.filter(status=Attempt.Status.SUCCEEDED).count()
        if payment.status == "succeeded":
            assert isinstance(cancel_result, KessaiServiceError)
            assert (succeeded, captured_at_acquirer(payment)) == (1, 1000)
        else:
            assert payment.status == "cancelled"
            assert isinstance(paid_result, KessaiServiceError)
            assert (succeeded, captured_at_acquirer(payment)) == (0, 0)
        assert payment.events.filter(type="attempt.succeeded_after_final").count() == 0
    succeeded_total = sum(p.amount for p in Payment.objects.filter(status="succeeded"))
    assert ledger() == (succeeded_total, 0)
    assert outcomes <= {"succeeded", "cancelled"}


def test_expiry_racing_a_card_payment(demo: Any) -> None:
    for round_ in range(ROUNDS):
        payment = new_payment(f"610000000{round_:03d}")
        Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now() - timedelta(seconds=1))
        race(
            partial(services.card_payment_pay, payment=payment, card=CARD),
            services.payments_expire_due,
        )
        payment.refresh_from_db()
        assert payment.status in ("succeeded", "expired")
        expected = 1000 if payment.status == "succeeded" else 0
        assert captured_at_acquirer(payment) == expected
        assert payment.attempts.filter(status=Attempt.Status.SUCCEEDED).count() == expected // 1000
        assert not payment.attempts.filter(status__in=["pending", "unknown"]).exists()
    succeeded_total = sum(p.amount for p in Payment.objects.filter(status="succeeded"))
    assert ledger() == (succeeded_total, 0)


def refund_now(payment: Payment, amount: int, expected: int) -> Refund:
    refund = services.refund_create(
        payment=payment, amount=amount, expected_refundable_amount=expected
    )
    return services.refund_submit(refund=refund)


def test_concurrent_refunds_with_the_same_precondition_refund_once(demo: Any) -> None:
    for round_ in range(ROUNDS):
        payment = new_payment(f"620000000{round_:03d}")
        services.card_payment_pay(payment=payment, card=CARD)
        results = race(*[partial(refund_now, payment, 600, 1000) for _ in range(4)])
        refunds = [r for r in results if isinstance(r, Refund)]
        refused = [r for r in results if isinstance(r, KessaiServiceError)]
        assert len(refunds) == 1
        assert {e.code for e in refused} == {"refund_amount_mismatch"}
        payment.refresh_from_db()
        assert (payment.refunded_amount, payment.refund_pending_amount) == (600, 0)
        assert refunded_at_acquirer(payment) == 600
    assert ledger() == (1000 * ROUNDS, 600 * ROUNDS)


def test_full_refund_racing_the_completion_of_the_payment(demo: Any) -> None:
    """The merchant refunds as soon as it hears "succeeded" while a second
    notification-driven refund arrives: at most the amount ever goes back."""
    for round_ in range(ROUNDS):
        payment = new_payment(f"630000000{round_:03d}")
        results = race(
            partial(services.card_payment_pay, payment=payment, card=CARD),
            partial(refund_now, payment, 1000, 1000),
        )
        payment.refresh_from_db()
        assert payment.status in ("succeeded", "refunded")
        refunded = refunded_at_acquirer(payment)
        assert payment.refunded_amount == refunded
        if isinstance(results[1], Refund):
            assert (payment.status, refunded) == ("refunded", 1000)
        else:
            assert results[1].code == "payment_not_refundable"
            assert (payment.status, refunded) == ("succeeded", 0)
        assert captured_at_acquirer(payment) == 1000
    refunded_total = sum(p.refunded_amount for p in Payment.objects.all())
    assert ledger() == (1000 * ROUNDS, refunded_total)
