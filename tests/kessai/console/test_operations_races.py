"""Two administrators press 返金 on the same page at the same moment: real
concurrent transactions on PostgreSQL (SQLite serialises every writer, so
there is nothing to race there). The money moves once."""

from functools import partial
from typing import Any

import pytest
from django.db import connection

from madoguchi.kessai.console import operations
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.errors import KessaiServiceError
from madoguchi.kessai.payments.models import DailySummary, Payment, Refund
from madoguchi.platform.audit.models import AuditRecord
from tests.kessai.test_races import CARD, new_payment, race, refunded_at_acquirer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]

ROUNDS = 5


def press_refund(payment: Payment, administrator: str) -> Any:
    """One administrator's press: the page showed 1000円 refundable."""
    try:
        return operations.console_refund(
            payment=payment,
            operator=operations.Operator(actor=administrator, reason="依頼文書による返金"),
            amount=1000,
            expected_refundable_amount=1000,
            written_request="藤市第7号",
        )
    except operations.OperationRefused as exc:
        # race() expects service errors: hand the refusal back as its cause
        cause = exc.__cause__
        if not isinstance(cause, KessaiServiceError):
            raise
        raise cause from None


def test_two_administrators_pressing_refund_at_once_move_money_once(demo: Any) -> None:
    for round_ in range(ROUNDS):
        payment = new_payment(f"640000000{round_:03d}")
        services.card_payment_pay(payment=payment, card=CARD)

        results = race(
            partial(press_refund, payment, "console:1"),
            partial(press_refund, payment, "console:2"),
        )

        refunds = [r for r in results if isinstance(r, Refund)]
        refused = [r for r in results if isinstance(r, KessaiServiceError)]
        assert len(refunds) == 1
        assert [e.code for e in refused] == ["refund_amount_mismatch"]
        payment.refresh_from_db()
        assert (payment.status, payment.refunded_amount) == ("refunded", 1000)
        assert refunded_at_acquirer(payment) == 1000
    assert sum(r.refunded_amount for r in DailySummary.objects.all()) == 1000 * ROUNDS
    assert AuditRecord.objects.filter(event="payment.refund", outcome="success").count() == ROUNDS
    assert AuditRecord.objects.filter(event="payment.refund", outcome="failure").count() == ROUNDS
