"""Every audited action done through a screen records the client address it
came from (docs/console.md: "account, time and client address"), in both
services, also where the service that records it is not handed the request."""

from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.payments.models import Attempt, Notification, Payment
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.simulators import acquirer
from tests.conftest import CARD_OK, login
from tests.integration.kessai.test_operations import paid, refund_form, unpaid
from tests.support.journey import open_payment_page, pay_by_card

pytestmark = pytest.mark.django_db

CONSOLE_TERMINAL = "127.0.2.3"  # the console fixture's office terminal
STAFF_TERMINAL = "127.0.3.4"


def _staff(demo: dict[str, Any], login_id: str) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR=STAFF_TERMINAL)
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == login_id)
    login(client, login_id, account["password"])
    return client


def test_every_audited_action_records_the_client_address(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, admin: Client
) -> None:
    # Console operations: refund on request, cancel, inquire, resend, resend given up
    application = paid(demo, citizen, payer, run_tasks)
    payment = Payment.objects.get(reference=application.reference)
    admin.post(f"/transactions/{payment.public_id}/refund", refund_form(admin, payment))
    run_tasks()
    notification = Notification.objects.filter(payment=payment).first()
    assert notification is not None
    admin.post(f"/notifications/{notification.pk}/resend", {"op-reason": "受信確認"})
    admin.post("/merchants/mayor/resend-given-up", {"op-reason": "障害復旧後の再送"})
    unpaid_one = unpaid(demo, citizen, run_tasks)
    acquirer.STATE.lose_next = 1
    pay_by_card(payer, open_payment_page(citizen, payer, unpaid_one), CARD_OK)
    attempt = Attempt.objects.get(status="unknown")
    admin.post(
        f"/transactions/{attempt.payment.public_id}/attempts/{attempt.pk}/inquire",
        {"op-reason": "市民からの問い合わせ"},
    )
    cancelled = unpaid(demo, citizen, run_tasks)
    admin.post(
        f"/transactions/{Payment.objects.get(reference=cancelled.reference).public_id}/cancel",
        {"cancel-reason": "加盟店の依頼"},
    )
    # Console configuration: key and secret rotation
    admin.post("/merchants/agri-committee/api-key")
    admin.post("/merchants/agri-committee/secret")
    # Shinsei: a refund requested by the department, approved by a reviewer
    shimin = _staff(demo, "staff-shimin")
    shimin.post(
        f"/applications/{application.reference}/refunds",
        {"amount": "100", "reason": "not_issued", "reason_text": "1通のみ交付"},
    )
    refund = application.refund_requests.get()
    reviewer = _staff(demo, "reviewer-mayor")
    reviewer.post(f"/applications/{application.reference}/refunds/{refund.pk}/approve")
    run_tasks()

    # What a person did (an account is the actor; tasks act as "system" or a gateway)
    by_people = AuditRecord.objects.filter(actor__regex=r"^(staff|console):")
    recorded = set(by_people.values_list("event", "origin"))
    for event, terminal in [
        ("payment.refund", CONSOLE_TERMINAL),
        ("notification.resend", CONSOLE_TERMINAL),
        ("notification.resend_given_up", CONSOLE_TERMINAL),
        ("attempt.inquire", CONSOLE_TERMINAL),
        ("payment.cancel", CONSOLE_TERMINAL),
        ("merchant.api_key_rotate", CONSOLE_TERMINAL),
        ("merchant.notification_secret_rotate", CONSOLE_TERMINAL),
        ("refund.request", STAFF_TERMINAL),
        ("refund.approve", STAFF_TERMINAL),
    ]:
        assert (event, terminal) in recorded, (event, sorted(recorded))
    # and no record made by a person through a screen lacks its address
    assert not [event for event, origin in recorded if not origin]
