"""An approved 還付 goes back through the method the citizen paid with:
PayPay's refund API for PayPay, the acquirer for Apple Pay (a network-token
card payment) — the card case is in test_refunds.py (issue #14)."""

import json
from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.payments.models import Attempt, Refund
from madoguchi.shinsei.applications.models import Application, RefundRequest
from madoguchi.simulators import acquirer
from madoguchi.simulators import paypay as paypay_simulator
from tests.conftest import staff_client
from tests.integration.kessai.test_paypay import app, start
from tests.integration.shinsei.test_refunds import _staff, request_refund
from tests.kessai.test_applepay import device_token
from tests.support.journey import accept, open_payment_page, submit_application

pytestmark = pytest.mark.django_db


def accepted(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> Application:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    return application


def refund_200(demo: dict[str, Any], application: Application, run_tasks: Any) -> None:
    """市民課 asks for 200円 back; the reviewer approves; the worker sends it."""
    request_refund(staff_client(demo, "shimin"), application, 200)
    refund = RefundRequest.objects.get(application=application)
    _staff(demo, "reviewer-mayor").post(
        f"/applications/{application.reference}/refunds/{refund.pk}/approve"
    )
    run_tasks()
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("partially_refunded", 200)


def test_paypay_payment_is_refunded_through_paypay(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = accepted(demo, citizen, run_tasks)
    page = open_payment_page(citizen, payer, application)
    app(start(payer, page))
    run_tasks()
    application.refresh_from_db()
    assert (application.payment_status, application.payment_method) == ("paid", "paypay")

    refund_200(demo, application, run_tasks)

    [at_paypay] = paypay_simulator.STATE.refunds.values()
    assert at_paypay["amount"] == {"amount": 200, "currency": "JPY"}
    assert at_paypay["paymentId"] == Attempt.objects.get().provider_reference
    assert at_paypay["merchantRefundId"] == Refund.objects.get().public_id
    assert acquirer.STATE.refunds == {}


def test_apple_pay_payment_is_refunded_through_the_acquirer(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = accepted(demo, citizen, run_tasks)
    page = open_payment_page(citizen, payer, application)
    response = payer.post(
        page + "applepay/authorize",
        json.dumps({"token": device_token(amount=600)}),
        content_type="application/json",
    )
    assert response.json()["error"] == ""
    run_tasks()
    application.refresh_from_db()
    assert (application.payment_status, application.payment_method) == ("paid", "apple_pay")

    refund_200(demo, application, run_tasks)

    kessai_refund = Refund.objects.get()
    at_acquirer = acquirer.STATE.refunds[kessai_refund.public_id]
    assert (at_acquirer["amount"], at_acquirer["status"]) == (200, "succeeded")
    assert at_acquirer["authorization"] == f"att_{kessai_refund.payment.public_id}_" + str(
        kessai_refund.attempt_id
    )
    assert paypay_simulator.STATE.refunds == {}
