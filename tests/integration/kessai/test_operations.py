"""Console operations (issue #14): resend, failed deliveries, inquiry of an
attempt in ``unknown``, cancel, refund on a written request, the refund
register — each with a reason, audited, refused where the state forbids it."""

import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.payments.models import (
    Attempt,
    DailySummary,
    Notification,
    NotificationDelivery,
    Payment,
    Refund,
)
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.shinsei.applications.models import Application, CitizenMail, ReceivedEvent
from madoguchi.simulators import acquirer
from tests.conftest import CARD_OK, staff_client
from tests.support.journey import (
    accept,
    open_payment_page,
    paid_by_card,
    pay_by_card,
    submit_application,
)

pytestmark = pytest.mark.django_db


def paid(demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any) -> Application:
    application = paid_by_card(demo, citizen, payer, run_tasks, CARD_OK)
    assert application.payment_status == "paid"
    return application


def unpaid(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> Application:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    return application


def refund_form(admin: Client, payment: Payment) -> dict[str, str]:
    page = admin.get(f"/transactions/{payment.public_id}").content.decode()
    expected = re.search(r'name="refund-expected_refundable_amount" value="(\d+)"', page)
    assert expected is not None, "the page carries the refundable amount it showed"
    return {
        "refund-amount": "200",
        "refund-written_request": "藤市第123号",
        "refund-reason": "二重納付の依頼",
        "refund-expected_refundable_amount": expected.group(1),
    }


def test_refund_on_a_written_request(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    application = paid(demo, citizen, payer, run_tasks)
    payment = Payment.objects.get(reference=application.reference)

    response = admin.post(f"/transactions/{payment.public_id}/refund", refund_form(admin, payment))
    assert response.status_code == 302
    run_tasks()

    refund = Refund.objects.get()
    assert (refund.status, refund.amount, refund.origin) == ("succeeded", 200, "console")
    assert refund.written_request == "藤市第123号"
    assert acquirer.STATE.refunds[refund.public_id]["amount"] == 200
    record = AuditRecord.objects.get(event="payment.refund")
    assert record.detail["reason"] == "二重納付の依頼"
    assert record.detail["written_request"] == "藤市第123号"
    page = admin.get(f"/transactions/{payment.public_id}").content.decode()
    assert "返金しました。" in page
    assert "藤市第123号" in page
    # Shinsei follows: 一部返金 of 200円
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("partially_refunded", 200)


def test_a_stale_page_cannot_refund_twice(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    application = paid(demo, citizen, payer, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    form = refund_form(admin, payment)
    admin.post(f"/transactions/{payment.public_id}/refund", form)
    # The same page submitted again (a second administrator, a double click)
    response = admin.post(f"/transactions/{payment.public_id}/refund", form, follow=True)
    assert "返金できる額が画面を開いた後に変わりました" in response.content.decode()
    assert Refund.objects.count() == 1
    failure = AuditRecord.objects.get(event="payment.refund", outcome="failure")
    assert failure.detail["code"] == "refund_amount_mismatch"


def test_refund_of_an_unpaid_payment_is_refused(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, admin: Client
) -> None:
    application = unpaid(demo, citizen, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    response = admin.post(
        f"/transactions/{payment.public_id}/refund",
        {
            "refund-amount": "100",
            "refund-written_request": "藤市第1号",
            "refund-reason": "誤り",
            "refund-expected_refundable_amount": "0",
        },
        follow=True,
    )
    assert "この決済は返金できません" in response.content.decode()
    assert Refund.objects.count() == 0


def test_every_operation_needs_a_reason(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, admin: Client
) -> None:
    application = unpaid(demo, citizen, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    response = admin.post(f"/transactions/{payment.public_id}/cancel", {"cancel-reason": ""})
    assert response.status_code == 400
    assert "理由を入力してください。" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == "created"


def test_cancel_an_unpaid_payment_and_shinsei_follows(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, admin: Client
) -> None:
    application = unpaid(demo, citizen, run_tasks)
    payment = Payment.objects.get(reference=application.reference)

    admin.post(f"/transactions/{payment.public_id}/cancel", {"cancel-reason": "加盟店の依頼"})
    run_tasks()

    payment.refresh_from_db()
    assert payment.status == "cancelled"
    application.refresh_from_db()
    assert application.payment_status == "cancelled"
    assert AuditRecord.objects.get(event="payment.cancel").detail["reason"] == "加盟店の依頼"
    # a second cancel is refused (already cancelled), and audited as such
    response = admin.post(
        f"/transactions/{payment.public_id}/cancel", {"cancel-reason": "再度"}, follow=True
    )
    assert "この決済は取り消せません" in response.content.decode()
    assert AuditRecord.objects.filter(event="payment.cancel", outcome="failure").count() == 1


def test_cancel_of_a_paid_payment_is_refused(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    application = paid(demo, citizen, payer, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    response = admin.post(
        f"/transactions/{payment.public_id}/cancel", {"cancel-reason": "誤り"}, follow=True
    )
    assert "この決済は取り消せません" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_inquire_an_unknown_attempt_now(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    # Given a card payment whose answer was lost (the acquirer charged it)
    application = unpaid(demo, citizen, run_tasks)
    acquirer.STATE.lose_next = 1
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    attempt = Attempt.objects.get()
    assert attempt.status == "unknown"
    payment = attempt.payment

    # When an administrator asks the acquirer now
    response = admin.post(
        f"/transactions/{payment.public_id}/attempts/{attempt.pk}/inquire",
        {"op-reason": "市民からの問い合わせ"},
        follow=True,
    )
    run_tasks()

    # Then the attempt is settled as the acquirer says, and Shinsei follows
    assert "照会しました。結果：成功" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == "succeeded"
    application.refresh_from_db()
    assert application.payment_status == "paid"
    # asking again is refused: the outcome is known
    response = admin.post(
        f"/transactions/{payment.public_id}/attempts/{attempt.pk}/inquire",
        {"op-reason": "再照会"},
        follow=True,
    )
    assert "結果が不明（unknown）の試行だけを照会できます" in response.content.decode()
    assert AuditRecord.objects.filter(event="attempt.inquire").count() == 2


def test_resend_delivers_once_more_and_shinsei_stays_correct(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    application = paid(demo, citizen, payer, run_tasks)
    notification = Notification.objects.get(type="payment.succeeded")
    assert notification.status == "delivered"
    deliveries = NotificationDelivery.objects.filter(notification=notification).count()
    events = application.events.count()
    paid_mails = CitizenMail.objects.filter(kind="paid").count()

    admin.post(f"/notifications/{notification.pk}/resend", {"op-reason": "加盟店の受信確認"})
    run_tasks()

    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert NotificationDelivery.objects.filter(notification=notification).count() == deliveries + 1
    # Shinsei received the same event id again and ignored it
    assert ReceivedEvent.objects.filter(event_id=notification.event_id).count() == 1
    application.refresh_from_db()
    assert application.payment_status == "paid"
    assert application.events.count() == events
    assert CitizenMail.objects.filter(kind="paid").count() == paid_mails
    assert AuditRecord.objects.get(event="notification.resend").detail["event_id"] == (
        notification.event_id
    )


def test_failed_deliveries_listed_and_resent_per_agency(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    # Given Shinsei rejected a notification until Kessai gave up
    application = paid(demo, citizen, payer, run_tasks)
    notification = Notification.objects.get(type="payment.succeeded")
    NotificationDelivery.objects.create(
        notification=notification, response_status=503, error="Service Unavailable"
    )
    Notification.objects.filter(pk=notification.pk).update(status="gave_up", attempts=13)

    page = admin.get("/notifications/failed").content.decode()
    assert notification.event_id in page
    assert "503 Service Unavailable" in page

    admin.post("/merchants/mayor/resend-given-up", {"op-reason": "障害復旧後の再送"})
    run_tasks()
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert AuditRecord.objects.get(event="notification.resend_given_up").detail["count"] == 1
    assert application.payment_status == "paid"


def test_refund_register_lists_refunds_of_the_period_with_csv(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    application = paid(demo, citizen, payer, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    admin.post(f"/transactions/{payment.public_id}/refund", refund_form(admin, payment))
    refund = Refund.objects.get()

    page = admin.get("/refunds").content.decode()
    assert refund.public_id in page
    assert application.reference in page
    response = admin.get("/refunds.csv")
    csv_body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    header, row = csv_body.splitlines()
    assert header.startswith("返金日時,加盟店,整理番号")
    assert f"{application.reference},{payment.public_id},{refund.public_id}" in row
    assert ",600,200," in row
    # another agency's register is empty
    other = demo["merchants"]["agri-committee"]
    from madoguchi.kessai.merchants.models import Merchant

    merchant_id = Merchant.objects.get(code="agri-committee").pk
    assert other
    assert refund.public_id not in admin.get(f"/refunds?merchant={merchant_id}").content.decode()
    # and the day's figures count the refund by method and agency
    summary = DailySummary.objects.get(merchant__code="mayor", method="card")
    assert (summary.refunded_count, summary.refunded_amount) == (1, 200)
    for url in ("/dashboard", "/dashboard/month"):
        response = admin.get(url)
        board = response.context["board"]
        by_method = dict(board.method_rows())["クレジットカード"]
        by_agency = dict(board.merchant_rows())[payment.merchant.display_name]
        for figures in (by_method, by_agency):
            assert (figures.refunded_count, figures.refunded_amount) == (1, 200)
        # and the screen shows them: a method row with 1 refund of 200円
        html = re.sub(r"\s+", " ", response.content.decode())
        assert re.search(r"クレジットカード</th>(<td[^>]*>[^<]*</td>){2}<td class=\"num\">1</td>"
                         r"<td class=\"num\">[^<]*200", html), url  # fmt: skip


def test_viewers_may_read_but_not_act(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, viewer: Client
) -> None:
    application = unpaid(demo, citizen, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    page = viewer.get(f"/transactions/{payment.public_id}").content.decode()
    assert "取り消す" not in page
    response = viewer.post(f"/transactions/{payment.public_id}/cancel", {"cancel-reason": "x"})
    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "created"
    assert viewer.get("/refunds").status_code == 200
    assert viewer.get("/notifications/failed").status_code == 200
