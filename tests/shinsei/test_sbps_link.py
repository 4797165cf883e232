"""An agency on SBPS's link type: the purchase request leaves Shinsei with the
整理番号, the amount and SBPS's codes only; SBPS's result notification marks
the application paid once, whatever is resent; a lost notification is
recovered by the inquiry. The SBPS simulator answers in process."""

import re
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from django.utils import timezone

from madoguchi.sbps import link
from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application, ApplicationEvent, CitizenMail
from madoguchi.shinsei.gateways.sbps_link.models import SbpsResult
from madoguchi.simulators import sbps as simulator
from tests.conftest import staff_client
from tests.support.journey import ANSWERS, accept, submit_application

PROCEDURE = "kominkan-shiyo"
KOMINKAN_ANSWERS = {**ANSWERS, "room": "大会議室"}
CARD = "4242424242424242"


def accepted_application(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> Application:
    application, _ = submit_application(citizen, PROCEDURE, KOMINKAN_ANSWERS)
    accept(staff_client(demo, "shougai-gakushu"), application)
    run_tasks()
    application.refresh_from_db()
    return application


def press_pay(citizen: Client, application: Application) -> tuple[str, list[tuple[str, str]]]:
    """支払う: Shinsei's page that posts the purchase request to SBPS."""
    response = citizen.post(f"/applications/{application.reference}/pay")
    assert response.status_code == 200
    html = response.content.decode()
    action = re.search(r'<form id="sbps-purchase" method="post" action="([^"]+)"', html)
    assert action is not None
    assert 'accept-charset="Shift_JIS"' in html
    fields = [
        (name, unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    ]
    return action.group(1), fields


def post_purchase(sbps: Client, fields: list[tuple[str, str]]) -> str:
    """The browser's form post, in Shift_JIS as accept-charset asks."""
    response = sbps.post(
        "/f01/FepBuyInfoReceive.do",
        urlencode(fields, encoding="shift_jis"),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 303, response.content.decode()
    return str(response["Location"])


def pay_on_sbps(sbps: Client, page: str, method: str = "credit3d2", number: str = CARD) -> Any:
    data = {"method": method}
    if method.startswith("credit"):
        data.update(cc_number=number, cc_expiration="203012", security_code="123")
    return sbps.post(page, data)


def returned_result(response: Any) -> tuple[str, list[tuple[str, str]]]:
    """The form SBPS's result page posts back to the merchant's return URL."""
    html = response.content.decode()
    action = re.search(r"<form id='back' method='post' action='([^']+)'", html)
    assert action is not None
    fields = re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", html)
    return unescape(action.group(1)), [(k, unescape(v)) for k, v in fields]


def come_back(citizen: Client, action: str, fields: list[tuple[str, str]]) -> Any:
    path = action.removeprefix("http://shinsei.test")
    response = Client(HTTP_HOST="shinsei.test").post(
        path,
        urlencode(fields, encoding="shift_jis"),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 303
    # The browser follows to Shinsei's own return page (a GET, with its session).
    return citizen.get(response["Location"])


def test_purchase_request_carries_no_personal_data(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    assert application.payment_gateway == "sbps_link"
    assert application.payment_status == Application.PaymentStatus.UNPAID
    status = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "決済代行会社（SBペイメントサービス）のお支払いページに移動します。" in status

    action, fields = press_pay(citizen, application)

    assert action == "http://sbps.test/f01/FepBuyInfoReceive.do"
    assert [name for name, _ in fields] == [*link.PURCHASE_REQUEST_FIELDS, "sps_hashcode"]
    values = dict(fields)
    assert values["order_id"] == values["cust_code"] == application.reference
    assert values["amount"] == "1200"
    assert values["item_name"] == "手数料"
    assert values["pay_method"] == "credit3d2,paypay,applepay"
    personal = [
        *(str(v) for v in KOMINKAN_ANSWERS.values()),
        "公民館の使用申請",
        "生涯学習課",
        "藤沢",
        "hanako",
    ]
    sent = "\n".join(value for _, value in fields)
    for value in personal:
        if value.isdigit() and len(value) < 3:
            continue  # the number of copies
        assert value not in sent, f"{value!r} would leave Shinsei for SBPS"
    # SBPS's hash checks out against the merchant's key in Shift_JIS.
    assert post_purchase(sbps, fields).startswith("/f01/pay/")


def test_payment_page_only_may_post_to_sbps(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)

    page = citizen.post(f"/applications/{application.reference}/pay")
    status = citizen.get(f"/applications/{application.reference}/")

    assert "form-action 'self' http://sbps.test" in page["Content-Security-Policy"]
    assert "http://sbps.test" not in status["Content-Security-Policy"]


def test_a_changed_amount_is_refused_by_sbps(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    _, fields = press_pay(citizen, application)

    tampered = [(k, "1" if k == "amount" else v) for k, v in fields]
    response = sbps.post(
        "/f01/FepBuyInfoReceive.do",
        urlencode(tampered, encoding="shift_jis"),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "チェックサム" in response.content.decode()


def test_card_payment_is_paid_from_the_notification(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])

    declined = pay_on_sbps(sbps, page, number="4000000000000002")
    assert declined.status_code == 402  # SBPS keeps the citizen on its page
    result_page = pay_on_sbps(sbps, page)

    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID
    assert application.payment_method == "card"
    [notification] = simulator.STATE.notifications
    assert notification["answer"] == "OK,"
    result = SbpsResult.objects.get(application=application, source="pagecon")
    assert application.paid_at == result.res_payment_date
    action, fields = returned_result(result_page)
    assert action == f"http://shinsei.test/applications/{application.reference}/sbps/success"
    status = come_back(citizen, action, fields)
    assert status.status_code == 302
    page_html = citizen.get(status["Location"]).content.decode()
    assert "決済済" in page_html


def test_paypay_payment(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])

    approval = sbps.post(page, {"method": "paypay"})
    assert "PayPayで承認する" in approval.content.decode()
    sbps.post(page, {"method": "paypay", "approve": "yes"})

    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID
    assert application.payment_method == "paypay"


def test_duplicated_notification_changes_nothing(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    Client().post("http://sbps.test/_sim/sbps/control", {"notification": "duplicate"},
                  content_type="application/json", HTTP_HOST="sbps.test")  # fmt: skip

    pay_on_sbps(sbps, page)
    application.refresh_from_db()
    paid_at = application.paid_at
    resent = Client(HTTP_HOST="sbps.test").post(
        f"/_sim/sbps/resend?order_id={application.reference}"
    )

    assert [n["answer"] for n in simulator.STATE.notifications] == ["OK,", "OK,", "OK,"]
    assert resent.json() == {"answer": "OK,"}
    application.refresh_from_db()
    assert application.paid_at == paid_at
    assert ApplicationEvent.objects.filter(application=application, type="paid").count() == 1
    assert CitizenMail.objects.filter(application=application, kind="paid").count() == 1
    assert SbpsResult.objects.filter(application=application, source="pagecon").count() == 1


def test_lost_notification_is_recovered_by_the_inquiry(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    simulator.STATE.notification = "drop"

    action, fields = returned_result(pay_on_sbps(sbps, page))
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID  # nothing arrived
    # The browser's copy gives the tracking id; the status comes from SBPS.
    Client(HTTP_HOST="shinsei.test").post(
        action.removeprefix("http://shinsei.test"),
        urlencode(fields, encoding="shift_jis"),
        content_type="application/x-www-form-urlencoded",
    )
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID

    assert services.payments_reconcile() == 1  # the sweep's 決済結果参照

    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID
    assert application.payment_method == "card"
    assert application.paid_at is not None


def test_notification_with_a_wrong_hash_is_answered_ng(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    simulator.STATE.notification = "drop"
    _, fields = returned_result(pay_on_sbps(sbps, page))
    forged = [(k, "9" * 40 if k == "sps_hashcode" else v) for k, v in fields]

    response = Client(HTTP_HOST="shinsei.test").post(
        "/sbps/notifications/kyoiku-iinkai",
        urlencode(forged, encoding="shift_jis"),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.content == b"NG,rejected"
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID
    genuine = Client(HTTP_HOST="shinsei.test").post(
        "/sbps/notifications/kyoiku-iinkai",
        urlencode(fields, encoding="shift_jis"),
        content_type="application/x-www-form-urlencoded",
    )
    assert genuine.content == b"OK,"
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID


def test_cancel_returns_unpaid(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])

    response = sbps.post(page + "/cancel")

    assert response["Location"] == (
        f"http://shinsei.test/applications/{application.reference}/sbps/cancel"
    )
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID
    assert not simulator.STATE.notifications


def test_the_page_to_sbps_speaks_english_when_chosen(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    citizen.get("/language/en?next=/")

    page = citizen.post(f"/applications/{application.reference}/pay").content.decode()

    assert "Continue to the payment page" in page
    assert "お支払いページへ進む" not in page


def test_unpaid_past_the_due_date_expires_and_a_late_success_still_counts(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])  # opened before the end
    Application.objects.filter(pk=application.pk).update(
        payment_due_at=timezone.now() - timedelta(minutes=1)
    )

    assert services.payments_reconcile() == 1
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.EXPIRED
    assert citizen.post(f"/applications/{application.reference}/pay").status_code == 302

    pay_on_sbps(sbps, page)  # SBPS's result arrives after all
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID
