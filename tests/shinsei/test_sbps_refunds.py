"""還付 and cancellation for an agency on SBPS's link type (issue #14 items 1
and 2): the same two-person refund workflow as for Kessai, sent through SBPS's
API (返金 ST02-00303-101, 部分返金 ST02-00307-101) by the tracking id of the
result notification, never twice; and a payment that follows the application
when it is withdrawn or rejected. The SBPS simulator answers in process and
keeps the books the tests compare with."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.sbps import api
from madoguchi.shinsei.applications import refunds, services
from madoguchi.shinsei.applications.models import (
    Application,
    ApplicationEvent,
    CitizenMail,
    RefundRequest,
)
from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.simulators import sbps as simulator
from tests.conftest import login, staff_client
from tests.shinsei.test_sbps_link import (
    KOMINKAN_ANSWERS,
    PROCEDURE,
    accepted_application,
    pay_on_sbps,
    post_purchase,
    press_pay,
)
from tests.support.journey import submit_application

FULL = "ST02-00303-101"
PARTIAL = "ST02-00307-101"


def _reviewer(demo: dict[str, Any]) -> Client:
    """教育委員会's reviewer: approves refunds its department's staff request."""
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "reviewer-kyoiku")
    login(client, account["login_id"], account["password"])
    return client


def _paid(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any, method: str = "credit3d2"
) -> Application:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    pay_on_sbps(sbps, page, method=method)
    if method == "paypay":
        sbps.post(page, {"method": "paypay", "approve": "yes"})
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID
    return application


def _sale(application: Application) -> dict[str, Any]:
    """The simulator's book entry of the application's sale."""
    [sale] = [
        t
        for t in Client(HTTP_HOST="sbps.test").get("/_sim/sbps/books").json()["transactions"]
        if t["order_id"] == application.reference
    ]
    return dict(sale)


def _sweep_later(refund: RefundRequest) -> None:
    """The refunds sweep, once the refund has waited past its interval."""
    RefundRequest.objects.filter(pk=refund.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    refunds.refunds_sweep()


def _request_and_approve(
    demo: dict[str, Any], application: Application, amount: int, run_tasks: Any
) -> RefundRequest:
    staff = staff_client(demo, "shougai-gakushu")
    response = staff.post(
        f"/applications/{application.reference}/refunds",
        {"amount": str(amount), "reason": "not_issued", "reason_text": ""},
    )
    assert response.status_code == 302
    refund = RefundRequest.objects.filter(application=application).latest("id")
    assert refund.status == "requested"
    # The requester cannot approve it; the agency's reviewer can.
    own = staff.post(f"/applications/{application.reference}/refunds/{refund.pk}/approve")
    assert own.status_code == 403
    approved = _reviewer(demo).post(
        f"/applications/{application.reference}/refunds/{refund.pk}/approve", {"note": "確認済"}
    )
    assert approved.status_code == 302
    run_tasks()
    refund.refresh_from_db()
    return refund


def test_card_payment_refunded_in_full_through_sbps(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    # Given an application paid by card on SBPS's page (1,200円)
    application = _paid(demo, citizen, sbps, run_tasks)
    page = staff_client(demo, "shougai-gakushu").get(f"/applications/{application.reference}/")
    assert "返金を申請する" in page.content.decode()

    # When its department asks for all of it back and the reviewer approves
    refund = _request_and_approve(demo, application, 1200, run_tasks)

    # Then SBPS refunded the sale once, by the 返金 request
    sale = _sale(application)
    assert [(r["request_id"], r["amount"]) for r in sale["refunds"]] == [(FULL, 1200)]
    assert (sale["refunded"], sale["payment_status"]) == (1200, "3")
    assert refund.status == "succeeded"
    assert refund.kessai_refund_id  # SBPS's transaction id of the refund
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("refunded", 1200)
    assert application.refunded_at is not None
    assert CitizenMail.objects.filter(application=application, kind="refunded").count() == 1
    status = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "返金済" in status


def test_partial_refunds_through_sbps_add_up(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = _paid(demo, citizen, sbps, run_tasks)

    first = _request_and_approve(demo, application, 500, run_tasks)
    application.refresh_from_db()
    assert first.status == "succeeded"
    assert (application.payment_status, application.refunded_amount) == ("partially_refunded", 500)
    page = staff_client(demo, "shougai-gakushu").get(f"/applications/{application.reference}/")
    assert "一部返金" in page.content.decode()

    second = _request_and_approve(demo, application, 700, run_tasks)
    application.refresh_from_db()
    assert second.status == "succeeded"
    assert (application.payment_status, application.refunded_amount) == ("refunded", 1200)
    sale = _sale(application)
    # The second is the rest of a sale already partly refunded: 部分返金 again.
    assert [(r["request_id"], r["amount"]) for r in sale["refunds"]] == [
        (PARTIAL, 500),
        (PARTIAL, 700),
    ]


def _refund_whose_answer_is_lost(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any, amount: int
) -> tuple[Application, RefundRequest]:
    application = _paid(demo, citizen, sbps, run_tasks)
    simulator.STATE.lose_answer_of.add(FULL if amount == application.fee_amount else PARTIAL)
    refund = _request_and_approve(demo, application, amount, run_tasks)
    assert refund.status == "pending"  # sent; the outcome is not known
    return application, refund


def test_a_repeated_send_never_refunds_twice(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    # SBPS processes the partial refund but its answer is lost (a timeout)
    application, refund = _refund_whose_answer_is_lost(demo, citizen, sbps, run_tasks, 300)

    # When the task runs again, the send is repeated and the sweep comes by
    refunds.refund_send(refund_id=refund.pk)
    from madoguchi.shinsei.applications.tasks import send_refund

    send_refund.enqueue(refund_id=refund.pk)
    run_tasks()
    _sweep_later(refund)

    # Then SBPS refunded once; the documented inquiry cannot show a partial
    # refund, so it stays pending for staff to check at SBPS
    assert [(r["request_id"], r["amount"]) for r in _sale(application)["refunds"]] == [
        (PARTIAL, 300)
    ]
    refund.refresh_from_db()
    assert refund.status == "pending"
    assert ApplicationEvent.objects.filter(application=application, type="refund_sent").count() == 1


def test_a_lost_answer_to_a_whole_refund_is_recovered_by_the_inquiry(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application, refund = _refund_whose_answer_is_lost(demo, citizen, sbps, run_tasks, 1200)

    _sweep_later(refund)  # 決済結果参照: payment_status 3

    refund.refresh_from_db()
    application.refresh_from_db()
    assert refund.status == "succeeded"
    assert (application.payment_status, application.refunded_amount) == ("refunded", 1200)
    assert len(_sale(application)["refunds"]) == 1


def test_a_refund_that_never_reached_sbps_is_sent_again(
    demo: dict[str, Any],
    citizen: Client,
    sbps: Client,
    run_tasks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    application = _paid(demo, citizen, sbps, run_tasks)
    real_call = api.SbpsApiClient.call
    calls: list[str] = []

    def unreachable_once(self: api.SbpsApiClient, request_id: str, fields: Any) -> Any:
        calls.append(request_id)
        if len(calls) == 1:
            raise api.SbpsApiError("ConnectError", sent=False)
        return real_call(self, request_id, fields)

    monkeypatch.setattr(api.SbpsApiClient, "call", unreachable_once)
    refund = _request_and_approve(demo, application, 400, run_tasks)
    # No connection was made: back to approved, for the retry
    assert refund.status == "approved"

    refunds.refund_send(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert calls == [PARTIAL, PARTIAL]
    assert [r["amount"] for r in _sale(application)["refunds"]] == [400]


def test_paypay_through_sbps_is_refused_with_a_reason(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = _paid(demo, citizen, sbps, run_tasks, method="paypay")
    staff = staff_client(demo, "shougai-gakushu")

    page = staff.get(f"/applications/{application.reference}/").content.decode()
    assert "PayPayの支払いは、この画面からは返金できません" in page
    assert "返金を申請する</button>" not in page
    response = staff.post(
        f"/applications/{application.reference}/refunds",
        {"amount": "1200", "reason": "not_issued", "reason_text": ""},
        follow=True,
    )

    assert "SBペイメントサービスの管理画面で返金してください" in response.content.decode()
    assert not RefundRequest.objects.filter(application=application).exists()


def _at_submission(citizen: Client, run_tasks: Any) -> Application:
    Procedure.objects.filter(slug=PROCEDURE).update(payment_timing="at_submission")
    application, _ = submit_application(citizen, PROCEDURE, KOMINKAN_ANSWERS)
    run_tasks()
    application.refresh_from_db()
    assert (application.payment_gateway, application.payment_status) == ("sbps_link", "unpaid")
    return application


@pytest.mark.parametrize("end", ["withdraw", "reject"])
def test_ending_before_payment_leaves_nothing_payable(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, end: str
) -> None:
    application = _at_submission(citizen, run_tasks)

    if end == "withdraw":
        citizen.post(f"/applications/{application.reference}/withdraw")
    else:
        staff_client(demo, "shougai-gakushu").post(
            f"/applications/{application.reference}/reject", {"reject-reason": "要件を満たさない"}
        )
    run_tasks()

    application.refresh_from_db()
    assert application.payment_status == "cancelled"
    status = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "支払う" not in status
    refused = citizen.post(f"/applications/{application.reference}/pay")
    assert refused.status_code != 200 or "sbps-purchase" not in refused.content.decode()
    assert RefundRequest.objects.count() == 0


def test_a_result_after_withdrawal_is_flagged_and_refunded_by_approval(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    # Given the citizen is on SBPS's page when the application is withdrawn
    application = _at_submission(citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    citizen.post(f"/applications/{application.reference}/withdraw")
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "cancelled"

    # When they pay anyway and SBPS notifies the result
    pay_on_sbps(sbps, page)
    run_tasks()

    # Then it is applied, flagged, and its refund awaits approval
    application.refresh_from_db()
    assert (application.status, application.payment_status) == ("withdrawn", "paid")
    assert application.attention == "paid_after_end"
    refund = RefundRequest.objects.get(application=application)
    assert (refund.status, refund.reason, refund.amount) == ("requested", "paid_after_end", 1200)
    assert _sale(application)["refunds"] == []  # nothing moves before approval

    _reviewer(demo).post(f"/applications/{application.reference}/refunds/{refund.pk}/approve")
    run_tasks()
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("refunded", 1200)
    assert [r["request_id"] for r in _sale(application)["refunds"]] == [FULL]


def test_reconcile_leaves_a_refunded_sbps_payment_alone(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = _paid(demo, citizen, sbps, run_tasks)
    _request_and_approve(demo, application, 1200, run_tasks)
    assert services.payments_reconcile() == 0
    application.refresh_from_db()
    assert (application.payment_status, application.refunded_amount) == ("refunded", 1200)
