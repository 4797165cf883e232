"""還付 in Shinsei: requested by the department, approved by someone else,
sent to Kessai once; and the payment that follows the application when it is
withdrawn or rejected (issue #14)."""

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from madoguchi.kessai.payments.models import Payment, Refund
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.shinsei.applications.models import Application, RefundRequest
from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.simulators import acquirer
from tests.conftest import CARD_OK, login, staff_client
from tests.support.journey import (
    open_payment_page,
    paid_by_card,
    pay_by_card,
    submit_application,
)

pytestmark = pytest.mark.django_db


def _staff(demo: dict[str, Any], login_id: str) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == login_id)
    login(client, login_id, account["password"])
    return client


def paid_application(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> Application:
    application = paid_by_card(demo, citizen, payer, run_tasks, CARD_OK)
    assert application.payment_status == "paid"
    return application


def request_refund(
    staff: Client, application: Application, amount: int, reason: str = "not_issued"
) -> Any:
    return staff.post(
        f"/applications/{application.reference}/refunds",
        {"amount": str(amount), "reason": reason, "reason_text": "1通のみ交付"},
    )


def test_partial_refund_requested_approved_and_sent_once(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    # Given a paid application (2 copies, 600円)
    application = paid_application(demo, citizen, payer, run_tasks)
    assert application.fee_amount == 600
    shimin = staff_client(demo, "shimin")

    # When its department asks for 300円 back
    assert request_refund(shimin, application, 300).status_code == 302
    refund = RefundRequest.objects.get(application=application)
    assert (refund.status, refund.amount, refund.reason) == ("requested", 300, "not_issued")
    run_tasks()
    assert Refund.objects.count() == 0  # nothing moves before approval

    # and the reviewer approves it
    reviewer = _staff(demo, "reviewer-mayor")
    response = reviewer.post(
        f"/applications/{application.reference}/refunds/{refund.pk}/approve", {"note": "確認済"}
    )
    assert response.status_code == 302
    run_tasks()

    # Then Kessai refunded 300円 through the acquirer, once
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert refund.expected_refundable_amount == 600
    kessai_refund = Refund.objects.get()
    assert (kessai_refund.public_id, kessai_refund.amount) == (refund.kessai_refund_id, 300)
    assert acquirer.STATE.refunds[kessai_refund.public_id]["amount"] == 300
    payment = Payment.objects.get(reference=application.reference)
    assert (payment.refunded_amount, payment.status) == (300, "succeeded")
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("partially_refunded", 300)
    assert application.refunded_at is not None
    # the citizen reads it, and was told by e-mail
    page = citizen.get(f"/applications/{application.reference}/")
    assert "一部返金" in page.content.decode()
    assert "300円" in page.content.decode()
    refunded_mail = [m for m in mail.outbox if "返金" in m.subject]
    assert len(refunded_mail) == 1
    assert "今回の返金額：300円" in refunded_mail[0].body
    # every step audited
    events = set(
        AuditRecord.objects.filter(resource=f"application:{application.reference}").values_list(
            "event", flat=True
        )
    )
    assert {"refund.request", "refund.approve", "refund.succeeded"} <= events

    # The rest can be refunded later; the application then reads 返金済.
    assert request_refund(shimin, application, 300, "overpaid").status_code == 302
    second = RefundRequest.objects.exclude(pk=refund.pk).get()
    _staff(demo, "admin-mayor").post(
        f"/applications/{application.reference}/refunds/{second.pk}/approve"
    )
    run_tasks()
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("refunded", 600)


def test_requester_cannot_approve_their_own_refund(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = paid_application(demo, citizen, payer, run_tasks)
    reviewer = _staff(demo, "reviewer-mayor")
    request_refund(reviewer, application, 100)
    refund = RefundRequest.objects.get()

    response = reviewer.post(f"/applications/{application.reference}/refunds/{refund.pk}/approve")

    assert response.status_code == 403
    assert "自分が申請した返金は承認できません" in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == "requested"
    run_tasks()
    assert Refund.objects.count() == 0
    assert AuditRecord.objects.filter(event="refund.approve", outcome="denied").count() == 1


def test_department_staff_cannot_approve(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = paid_application(demo, citizen, payer, run_tasks)
    request_refund(_staff(demo, "reviewer-mayor"), application, 100)
    refund = RefundRequest.objects.get()
    response = staff_client(demo, "shimin").post(
        f"/applications/{application.reference}/refunds/{refund.pk}/approve"
    )
    assert response.status_code == 403
    refund.refresh_from_db()
    assert refund.status == "requested"


def test_refund_over_the_refundable_amount_is_refused(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = paid_application(demo, citizen, payer, run_tasks)
    shimin = staff_client(demo, "shimin")
    request_refund(shimin, application, 500)
    request_refund(shimin, application, 200)  # only 100 left while 500 is open
    assert RefundRequest.objects.count() == 1
    response = shimin.post(
        f"/applications/{application.reference}/refunds", {"amount": "", "reason": ""}
    )
    assert response.status_code == 400
    assert "返金額を入力してください" in response.content.decode()


def test_declined_refund_moves_nothing(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = paid_application(demo, citizen, payer, run_tasks)
    request_refund(staff_client(demo, "shimin"), application, 100)
    refund = RefundRequest.objects.get()
    reviewer = _staff(demo, "reviewer-mayor")
    reviewer.post(
        f"/applications/{application.reference}/refunds/{refund.pk}/decline", {"note": "不要"}
    )
    run_tasks()
    refund.refresh_from_db()
    assert refund.status == "declined"
    assert Refund.objects.count() == 0
    # approving it afterwards changes nothing
    reviewer.post(f"/applications/{application.reference}/refunds/{refund.pk}/approve")
    refund.refresh_from_db()
    assert refund.status == "declined"


def test_refund_email_in_english_for_an_english_applicant(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    citizen.get("/language/en?next=/")
    application = paid_application(demo, citizen, payer, run_tasks)
    assert application.language == "en"
    request_refund(staff_client(demo, "shimin"), application, 600)
    _staff(demo, "reviewer-mayor").post(
        f"/applications/{application.reference}/refunds/{RefundRequest.objects.get().pk}/approve"
    )
    run_tasks()
    sent = [m for m in mail.outbox if "refunded" in m.subject]
    assert len(sent) == 1
    assert "This refund: ¥600" in sent[0].body
    page = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "Refunded on" in page


def _at_submission(citizen: Client, run_tasks: Any) -> Application:
    Procedure.objects.filter(slug="inkan").update(payment_timing="at_submission")
    application, _ = submit_application(citizen, "inkan")
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    return application


def test_withdraw_before_payment_cancels_it_in_kessai(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application = _at_submission(citizen, run_tasks)

    assert citizen.post(f"/applications/{application.reference}/withdraw").status_code == 302
    run_tasks()

    payment = Payment.objects.get(reference=application.reference)
    assert payment.status == "cancelled"
    application.refresh_from_db()
    assert (application.status, application.payment_status) == ("withdrawn", "cancelled")
    assert RefundRequest.objects.count() == 0


def test_reject_before_payment_cancels_it_in_kessai(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application = _at_submission(citizen, run_tasks)
    staff_client(demo, "shimin").post(
        f"/applications/{application.reference}/reject", {"reject-reason": "要件を満たさない"}
    )
    run_tasks()
    assert Payment.objects.get(reference=application.reference).status == "cancelled"


def test_withdraw_before_the_payment_exists_stops_it(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    Procedure.objects.filter(slug="inkan").update(payment_timing="at_submission")
    application, _ = submit_application(citizen, "inkan")  # request not yet sent
    citizen.post(f"/applications/{application.reference}/withdraw")
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "cancelled"
    assert not Payment.objects.filter(reference=application.reference, status="created").exists()


def test_withdraw_after_payment_opens_a_refund_request(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = _at_submission(citizen, run_tasks)
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    run_tasks()

    confirm = citizen.get(f"/applications/{application.reference}/withdraw").content.decode()
    assert "お支払い済みの手数料は、担当課が確認した後" in confirm
    citizen.post(f"/applications/{application.reference}/withdraw")
    run_tasks()

    refund = RefundRequest.objects.get(application=application)
    assert (refund.status, refund.amount, refund.reason) == ("requested", 600, "withdrawn")
    assert refund.requested_by is None
    # not automatic money movement
    assert Refund.objects.count() == 0
    assert Payment.objects.get(reference=application.reference).status == "succeeded"
    # a reviewer approves it; then the money goes back
    _staff(demo, "reviewer-mayor").post(
        f"/applications/{application.reference}/refunds/{refund.pk}/approve"
    )
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "refunded"


def test_late_payment_on_a_withdrawn_application_is_flagged(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    # Given the citizen is on Kessai's page when the application is withdrawn,
    # and the payment cannot be cancelled while the card is being charged
    application = _at_submission(citizen, run_tasks)
    pay_path = open_payment_page(citizen, payer, application)
    citizen.post(f"/applications/{application.reference}/withdraw")
    # When the payment arrives before the cancellation task runs
    pay_by_card(payer, pay_path, CARD_OK)
    run_tasks()

    # Then staff see it flagged, with its refund request opened
    application.refresh_from_db()
    assert (application.status, application.payment_status) == ("withdrawn", "paid")
    assert application.attention == "paid_after_end"
    refund = RefundRequest.objects.get(application=application)
    assert (refund.status, refund.reason, refund.amount) == ("requested", "paid_after_end", 600)
    page = _staff(demo, "reviewer-mayor").get(f"/applications/{application.reference}/")
    assert "取下げ・却下の後に入金がありました" in page.content.decode()
    inbox = staff_client(demo, "shimin").get("/")
    assert f'data-testid="attention-{application.reference}"' in inbox.content.decode()


def test_staff_csv_carries_refunds(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = paid_application(demo, citizen, payer, run_tasks)
    request_refund(staff_client(demo, "shimin"), application, 200)
    _staff(demo, "reviewer-mayor").post(
        f"/applications/{application.reference}/refunds/{RefundRequest.objects.get().pk}/approve"
    )
    run_tasks()
    body = staff_client(demo, "shimin").get("/export.csv").content.decode("utf-8-sig")
    header, row = body.splitlines()[:2]
    assert header.endswith("返金額,返金日")
    assert ",一部返金,," not in row
    assert row.split(",")[-2] == "200"


def test_sweep_sends_an_approved_refund_whose_task_was_lost(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from madoguchi.shinsei.applications.refunds import refunds_sweep

    application = paid_application(demo, citizen, payer, run_tasks)
    # An approval whose send task a crash dropped (no task row)
    refund = RefundRequest.objects.create(
        application=application,
        amount=100,
        reason="overpaid",
        status="approved",
        expected_refundable_amount=600,
    )
    assert refunds_sweep() == 0  # not yet overdue
    RefundRequest.objects.filter(pk=refund.pk).update(
        updated_at=timezone.now() - timedelta(minutes=6)
    )
    assert refunds_sweep() == 1
    assert refunds_sweep() == 0  # claimed: nudged once
    run_tasks()
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Refund.objects.get().amount == 100


def test_sweep_settles_a_refund_kessai_answered_pending(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from madoguchi.kessai.payments.services import refunds_settle_pending
    from madoguchi.shinsei.applications.refunds import refunds_sweep

    application = paid_application(demo, citizen, payer, run_tasks)
    request_refund(staff_client(demo, "shimin"), application, 100)
    refund = RefundRequest.objects.get()
    acquirer.STATE.lose_next = 1  # the acquirer's answer is lost: Kessai says pending
    _staff(demo, "reviewer-mayor").post(
        f"/applications/{application.reference}/refunds/{refund.pk}/approve"
    )
    run_tasks()
    refund.refresh_from_db()
    assert refund.status == "pending"
    # Kessai's janitor learns the outcome; its notification is lost too
    Refund.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    from madoguchi.kessai.payments.models import Notification

    refunds_settle_pending()
    Notification.objects.filter(type="payment.refunded").delete()
    RefundRequest.objects.update(updated_at=timezone.now() - timedelta(minutes=6))

    refunds_sweep()

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("partially_refunded", 100)


def test_reject_after_payment_opens_a_refund_request(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application = _at_submission(citizen, run_tasks)
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    run_tasks()
    staff_client(demo, "shimin").post(
        f"/applications/{application.reference}/reject", {"reject-reason": "対象外の証明"}
    )
    run_tasks()
    refund = RefundRequest.objects.get(application=application)
    assert (refund.status, refund.reason, refund.amount) == ("requested", "rejected", 600)
    assert Refund.objects.count() == 0
    assert Payment.objects.get(reference=application.reference).status == "succeeded"
