"""A correctly signed notification for another amount or reference than we
requested never marks the application paid: it is raised to staff (a warning
on the application) and Kessai is asked what the payment really is."""

import datetime
from typing import Any

import pytest
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.shinsei.applications.models import Application, ApplicationEvent
from tests.conftest import staff_client
from tests.shinsei.test_notifications import deliver
from tests.support.journey import accept, submit_application

NOW = datetime.datetime(2026, 11, 26, 3, 0, tzinfo=datetime.UTC)


@pytest.fixture
def unpaid(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> Application:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    return application


def succeeded(application: Application, **changes: Any) -> bytes:
    payment = schemas.Payment(
        id=application.kessai_payment_id,
        reference=application.reference,
        amount=application.fee_amount,
        status=schemas.PaymentStatus.SUCCEEDED,
        method=schemas.PaymentMethod.CARD,
        paid_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    ).model_copy(update=changes)
    event = schemas.Event(
        id="evt_mismatch_" + "_".join(changes),
        type=schemas.EventType.PAYMENT_SUCCEEDED,
        created=NOW,
        data=schemas.EventData(payment=payment),
    )
    return event.model_dump_json().encode()


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"amount": 1}, "amount"),
        ({"reference": "999999999999"}, "reference"),
        ({"amount": 1, "reference": "999999999999"}, "reference,amount"),
    ],
)
def test_mismatched_notification_is_raised_to_staff_not_marked_paid(
    demo: dict[str, Any],
    unpaid: Application,
    run_tasks: Any,
    changes: dict[str, Any],
    differs: str,
) -> None:
    # When: a signed "succeeded" arrives for something we did not request
    assert deliver(succeeded(unpaid, **changes)).status_code == 200
    # Then: not paid, and a mismatch event records what differs
    unpaid.refresh_from_db()
    assert unpaid.payment_status == "unpaid"
    flag = ApplicationEvent.objects.get(application=unpaid, type="payment_mismatch")
    assert flag.detail["differs"] == differs
    assert flag.detail["source"] == "notification"
    assert flag.detail["expected_amount"] == unpaid.fee_amount
    # And: Kessai is asked, whose answer (not paid) is what counts
    run_tasks()
    unpaid.refresh_from_db()
    assert unpaid.payment_status == "unpaid"
    # And: staff see the warning on the application
    page = staff_client(demo, "shimin").get(f"/applications/{unpaid.reference}/")
    text = page.content.decode()
    assert 'data-testid="payment-mismatch"' in text
    assert "決済の内容が申請と一致しません" in text


def test_matching_notification_still_marks_paid(unpaid: Application) -> None:
    assert deliver(succeeded(unpaid)).status_code == 200
    unpaid.refresh_from_db()
    assert unpaid.payment_status == "paid"
    assert not ApplicationEvent.objects.filter(type="payment_mismatch").exists()


def test_kessai_answer_that_differs_is_flagged_too(unpaid: Application) -> None:
    # Kessai's own answer (a refresh) is checked the same way.
    from madoguchi.kessai.payments.models import Payment
    from madoguchi.shinsei.applications import services

    Payment.objects.filter(public_id=unpaid.kessai_payment_id).update(
        amount=1, status="succeeded", method="card", paid_at=NOW
    )
    services.payment_status_refresh(application=unpaid)
    unpaid.refresh_from_db()
    assert unpaid.payment_status == "unpaid"
    flag = ApplicationEvent.objects.get(application=unpaid, type="payment_mismatch")
    assert (flag.detail["source"], flag.detail["differs"]) == ("kessai", "amount")
