"""Receiving Kessai's notifications: verified, deduplicated, monotonic."""

import datetime
import time
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from madoguchi.contract import schemas
from madoguchi.contract.signing import sign
from madoguchi.shinsei.applications.models import Application, ReceivedEvent
from madoguchi.shinsei.procedures.models import Agency, Procedure

NOW = datetime.datetime(2026, 11, 26, 3, 0, tzinfo=datetime.UTC)


@pytest.fixture
def application(demo: dict[str, Any]) -> Application:
    return Application.objects.create(
        procedure=Procedure.objects.get(slug="juminhyo"),
        reference="400000000001",
        inquiry_password="x",
        answers_sealed=b"",
        fee_amount=300,
        status="accepted",
        payment_status="unpaid",
        kessai_payment_id="pay_abc",
    )


def event_body(status: str, event_id: str = "evt_1", method: str | None = "card") -> bytes:
    payment = schemas.Payment(
        id="pay_abc",
        reference="400000000001",
        amount=300,
        status=schemas.PaymentStatus(status),
        method=schemas.PaymentMethod(method) if method and status == "succeeded" else None,
        paid_at=NOW if status == "succeeded" else None,
        created_at=NOW,
        updated_at=NOW,
    )
    return (
        schemas.Event(
            id=event_id,
            type=schemas.EventType.PAYMENT_SUCCEEDED,
            created=NOW,
            data=schemas.EventData(payment=payment),
        )
        .model_dump_json()
        .encode()
    )


def deliver(body: bytes, secret: str | None = None, agency: str = "mayor") -> Any:
    secret = secret or Agency.objects.get(code=agency).kessai_notification_secrets[0]
    return Client(HTTP_HOST="shinsei.test").post(
        f"/kessai/notifications/{agency}",
        body,
        content_type="application/json",
        headers={"Kessai-Signature": sign(body, [secret])},
    )


def test_valid_notification_marks_paid(application: Application) -> None:
    assert deliver(event_body("succeeded")).status_code == 200
    application.refresh_from_db()
    assert (application.payment_status, application.payment_method, application.paid_at) == (
        "paid",
        "card",
        NOW,
    )


def test_bad_signature_is_rejected_and_changes_nothing(application: Application) -> None:
    assert deliver(event_body("succeeded"), secret="forged").status_code == 400
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    assert not ReceivedEvent.objects.exists()


def test_another_agencys_secret_cannot_touch_this_agencys_application(
    application: Application,
) -> None:
    other_secret = Agency.objects.get(code="agri-committee").kessai_notification_secrets[0]
    response = deliver(event_body("succeeded"), secret=other_secret, agency="agri-committee")
    assert response.status_code == 400
    application.refresh_from_db()
    assert application.payment_status == "unpaid"


def test_duplicate_event_is_applied_once(application: Application) -> None:
    assert deliver(event_body("succeeded")).status_code == 200
    Application.objects.filter(pk=application.pk).update(payment_status="unpaid")
    assert deliver(event_body("succeeded")).status_code == 200  # same id again
    application.refresh_from_db()
    assert application.payment_status == "unpaid"  # the replay did not re-apply
    assert ReceivedEvent.objects.count() == 1
    # One "paid" event, one email owed, one task to send it.
    assert list(application.events.values_list("type", flat=True)) == ["paid"]
    [owed] = application.mails.all()
    assert owed.kind == "paid"
    assert DBTaskResult.objects.filter(args_kwargs__kwargs__mail_id=owed.pk).count() == 1


def test_late_success_wins_over_expiry(application: Application) -> None:
    deliver(event_body("expired", "evt_1"))
    application.refresh_from_db()
    assert application.payment_status == "expired"
    deliver(event_body("succeeded", "evt_2"))
    application.refresh_from_db()
    assert application.payment_status == "paid"


def test_expiry_after_success_does_not_undo_payment(application: Application) -> None:
    deliver(event_body("succeeded", "evt_1"))
    deliver(event_body("expired", "evt_2"))
    deliver(event_body("started", "evt_3"))
    application.refresh_from_db()
    assert application.payment_status == "paid"


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe\x00binary",
        b"[]",
        b"null",
        b'{"id": "evt_x"}',
        b'{"id": "evt_x", "type": "payment.unknown", "created": "2026-11-26T03:00:00Z",'
        b' "data": {}}',
        b'{"id": 1, "type": "payment.succeeded", "created": "x", "data": {"payment": []}}',
    ],
)
def test_signed_body_that_is_not_an_event_is_refused_cleanly(
    application: Application, body: bytes
) -> None:
    response = deliver(body)
    assert response.status_code == 400
    assert response.content == b"rejected"
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    assert not ReceivedEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "t={now},v1=é",
        "t={now},v1=abc,v1=\u00ff",
        "t=١٢,v1=x",
        "t=,v1=",
        "v1=abc",
        "t=99999999999999999999999,v1=a",
    ],
)
def test_malformed_signature_headers_are_refused_cleanly(
    application: Application, header: str
) -> None:
    response = Client(HTTP_HOST="shinsei.test").post(
        "/kessai/notifications/mayor",
        event_body("succeeded"),
        content_type="application/json",
        headers={"Kessai-Signature": header.format(now=int(time.time()))},
    )
    assert response.status_code == 400
