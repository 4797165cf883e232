"""The whole journey of issue #2 in one process: citizen applies, staff
accept, the payment is requested over contract v1, the citizen pays by card
after a decline, the notification arrives, both sides show 決済済."""

from typing import Any

from django.core import mail
from django.test import Client

from madoguchi.kessai.payments.models import Attempt, Notification, Payment, PaymentEvent
from madoguchi.shinsei.applications.models import Application

from .conftest import CARD_DECLINED, CARD_OK, staff_client
from .support.journey import (
    accept,
    open_payment_page,
    pay_by_card,
    shown_after,
    submit_application,
)


def test_citizen_pays_by_card_after_a_decline_and_both_sides_show_paid(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    # Given a submitted application for two copies (2 × 300円)
    application, password = submit_application(citizen)
    assert application.fee_amount == 600
    assert application.payment_status == "not_yet"
    assert run_tasks() == 1  # the "submitted" email
    assert [m.subject for m in mail.outbox] == ["【住民票の写しの交付申請】申請を受け付けました"]

    # When the owning department accepts it
    staff = staff_client(demo, "shimin")
    accept(staff, application)
    application.refresh_from_db()
    assert (application.status, application.payment_status) == ("accepted", "preparing")

    # Then the payment request task creates the payment on Kessai, and the
    # acceptance email carries the payment page and the due date
    assert run_tasks() == 2
    assert mail.outbox[1].subject == "【住民票の写しの交付申請】申請を受理しました"
    assert "http://shinsei.test/inquiry" in mail.outbox[1].body
    assert "お支払い期限：" in mail.outbox[1].body
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    payment = Payment.objects.get(public_id=application.kessai_payment_id)
    assert (payment.reference, payment.amount, payment.merchant.code) == (
        application.reference,
        600,
        "mayor",
    )

    # When the citizen pays, first with a card that is declined
    pay_path = open_payment_page(citizen, payer, application)
    page = payer.get(pay_path)
    assert "藤沢市（市長）" in page.content.decode()
    assert application.reference in page.content.decode()
    declined = pay_by_card(payer, pay_path, CARD_DECLINED)
    assert "承認されませんでした" in shown_after(payer, declined)
    payment.refresh_from_db()
    assert payment.status == "started"

    # and then, on the same payment, with a card that works
    paid = pay_by_card(payer, pay_path, CARD_OK)
    assert paid.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.method == "card"
    assert list(
        payment.attempts.order_by("id").values_list("status", "card_brand", "card_last4")
    ) == [(Attempt.Status.DECLINED, "visa", "0002"), (Attempt.Status.SUCCEEDED, "visa", "4242")]
    assert list(PaymentEvent.objects.filter(payment=payment).values_list("type", flat=True)) == [
        "payment.created",
        "attempt.started",
        "attempt.declined",
        "attempt.started",
        "payment.succeeded",
    ]

    # Then the notifications are delivered and Shinsei shows 決済済
    run_tasks()
    assert set(Notification.objects.values_list("type", "status")) == {
        ("payment.attempt_failed", "delivered"),
        ("payment.succeeded", "delivered"),
    }
    application.refresh_from_db()
    assert application.payment_status == "paid"
    assert application.payment_method == "card"
    assert application.paid_at == payment.paid_at

    status_page = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "決済済" in status_page
    assert "クレジットカード" in status_page
    staff_page = staff.get(f"/applications/{application.reference}/").content.decode()
    assert "決済済" in staff_page
    assert "クレジットカード" in staff_page
    assert password  # the inquiry password was shown once on the confirmation page


def test_browser_return_reads_status_from_kessai_before_any_notification(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    pay_path = open_payment_page(citizen, payer, application)
    pay_by_card(payer, pay_path, CARD_OK)
    # No task has run: the notification is still queued. The return reads the API.
    back = payer.get(pay_path + "back")
    return_path = back["Location"].removeprefix("http://shinsei.test")
    assert citizen.get(return_path).status_code == 302
    application.refresh_from_db()
    assert application.payment_status == "paid"
    # The notification arriving afterwards changes nothing and is accepted.
    run_tasks()
    assert Notification.objects.get(type="payment.succeeded").status == "delivered"
    application.refresh_from_db()
    assert application.payment_status == "paid"


def test_staff_of_another_department_cannot_see_or_accept(
    demo: dict[str, Any], citizen: Client
) -> None:
    application, _ = submit_application(citizen)
    other = staff_client(demo, "shiminzei")
    assert application.reference not in other.get("/").content.decode()
    assert other.get(f"/applications/{application.reference}/").status_code == 404
    assert other.post(f"/applications/{application.reference}/accept").status_code == 404
    application.refresh_from_db()
    assert application.status == "submitted"


def test_inquiry_with_reference_and_password_shows_status(
    demo: dict[str, Any], citizen: Client
) -> None:
    application, password = submit_application(citizen)
    stranger = Client(HTTP_HOST="shinsei.test")
    assert stranger.get(f"/applications/{application.reference}/").status_code == 404
    wrong = stranger.post("/inquiry", {"reference": application.reference, "password": "WRONG"})
    assert wrong.status_code == 400
    assert "正しくありません" in wrong.content.decode()
    right = stranger.post(
        "/inquiry", {"reference": application.reference, "password": password.lower()}
    )
    assert right.status_code == 302
    page = stranger.get(right["Location"]).content.decode()
    assert application.reference in page
    assert "審査待ち" in page


def test_double_accept_requests_one_payment(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, application)
    accept(staff, application)  # a double click
    run_tasks()
    assert Payment.objects.count() == 1
    assert Application.objects.get(pk=application.pk).payment_status == "unpaid"


def test_payment_return_does_not_reveal_whether_a_reference_exists(
    demo: dict[str, Any], citizen: Client
) -> None:
    application, _ = submit_application(citizen)
    stranger = Client(HTTP_HOST="shinsei.test")
    known = stranger.get(f"/applications/{application.reference}/payment-return")
    unknown = stranger.get("/applications/999999999999/payment-return")
    assert (known.status_code, known["Location"]) == (302, "/inquiry")
    assert (unknown.status_code, unknown["Location"]) == (302, "/inquiry")
