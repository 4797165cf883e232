"""A refund through the contract reaches Shinsei: a partial refund makes the
application 一部返金, the refund of the rest makes it 返金済; a cancel before
payment makes it 取消."""

from typing import Any

from django.test import Client

from madoguchi.contract.client import KessaiClient
from madoguchi.contract.schemas import RefundCreateRequest
from madoguchi.kessai.payments.models import Notification, Payment
from madoguchi.platform.http import transport
from madoguchi.shinsei.applications.models import Application
from tests.conftest import CARD_OK, staff_client
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application


def kessai_for(demo: dict[str, Any]) -> KessaiClient:
    return KessaiClient(
        base_url="http://kessai.test/api",
        api_key=str(demo["merchants"]["mayor"]["api_key"]),
        transport=transport(),
    )


def test_partial_then_full_refund_reaches_shinsei(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "paid"
    payment = Payment.objects.get(reference=application.reference)

    with kessai_for(demo) as kessai:
        first = kessai.create_refund(
            payment.public_id,
            RefundCreateRequest(amount=200, expected_refundable_amount=payment.amount),
            idempotency_key="refund-1",
        )
        assert first.status == "succeeded"
        run_tasks()
        application.refresh_from_db()
        assert application.payment_status == "partially_refunded"  # 一部返金
        assert application.refunded_amount == 200

        rest = payment.amount - 200
        kessai.create_refund(
            payment.public_id,
            RefundCreateRequest(amount=rest, expected_refundable_amount=rest),
            idempotency_key="refund-2",
        )
        run_tasks()
        events = [e.type for e in kessai.list_payment_events(payment.public_id)]
    assert events.count("payment.refunded") == 2
    assert set(
        Notification.objects.filter(type="payment.refunded").values_list("status", flat=True)
    ) == {"delivered"}
    application.refresh_from_db()
    assert application.payment_status == "refunded"
    assert "返金済" in citizen.get(f"/applications/{application.reference}/").content.decode()


def test_cancel_before_payment_reaches_shinsei(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    with kessai_for(demo) as kessai:
        cancelled = kessai.cancel_payment(application.kessai_payment_id, idempotency_key="c-1")
    assert cancelled.status == "cancelled"
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.CANCELLED
