"""Queries and transactions per hot operation in Shinsei (issue #10): a
citizen submitting, staff accepting, a notification from Kessai arriving.
Exact on purpose: a query added to the hot path fails here."""

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from madoguchi.shinsei.applications.models import Application, CitizenMail
from madoguchi.shinsei.applications.tasks import send_citizen_mail
from madoguchi.shinsei.procedures.models import Agency
from tests.conftest import staff_client
from tests.shinsei.test_notifications import application, deliver, event_body  # noqa: F401
from tests.support.journey import ANSWERS, fill_in, submit_application
from tests.support.queries import Counted, counted

AUDIT_CHAIN_LOCK = 1 if connection.vendor == "postgresql" else 0


def assert_cost(cost: Counted, *, queries: int, transactions: int) -> None:
    assert (cost.queries, cost.transactions) == (queries, transactions), str(cost)


def test_submitting_an_application(demo: Any, citizen: Client) -> None:
    fill_in(citizen, "juminhyo", ANSWERS)
    with counted() as cost:
        response = citizen.post("/procedures/juminhyo/check")
    assert response.status_code == 302
    # Procedure, session, form version; then the application, its event, the
    # citizen's email and its task in one transaction; then the session, saved
    # under the new key a submission gets (docs/security.md) by one UPDATE that
    # moves the row to that key (no transaction of its own).
    assert_cost(cost, queries=8, transactions=1)


@pytest.fixture
def submitted(demo: Any, citizen: Client) -> Application:
    return submit_application(citizen)[0]


def test_accepting_an_application(demo: Any, submitted: Application) -> None:
    staff = staff_client(demo, "shimin")
    with counted() as cost:
        response = staff.post(f"/applications/{submitted.reference}/accept")
    assert response.status_code == 302
    # Session, staff, its permissions (its role's group: may it act for the
    # whole agency?), application; the conditional UPDATE, the event and the
    # payment request task in one transaction; the application read back;
    # the session saved by one UPDATE (no transaction of its own).
    assert_cost(cost, queries=9, transactions=1)


def test_receiving_a_payment_notification(application: Application) -> None:  # noqa: F811
    body = event_body("succeeded")
    secret = Agency.objects.get(code="mayor").kessai_notification_secrets[0]
    with counted() as cost:
        response = deliver(body, secret)
    assert response.status_code == 200
    # Agency; the event id recorded (INSERT … ON CONFLICT DO NOTHING: a
    # duplicate is an answer, no savepoint), the application locked, its
    # conditional UPDATE (not read back: the row is locked), the event and the
    # email (one INSERT on PostgreSQL, two elsewhere) and the email's task —
    # one transaction.
    postgres = connection.vendor == "postgresql"
    assert_cost(cost, queries=6 if postgres else 7, transactions=1)
    sent = CitizenMail.objects.get(application=application)
    assert (sent.kind, sent.sent_at) == (CitizenMail.Kind.PAID, None)
    assert list(application.events.values_list("type", "actor", "detail")) == [
        ("paid", "kessai", {"method": "card"})
    ]
    task = DBTaskResult.objects.get(task_path=send_citizen_mail.module_path)
    assert task.args_kwargs["kwargs"] == {"mail_id": sent.pk}
    # The lock is on the application's row alone, not on the procedure,
    # department and agency it is joined with: notifications for other
    # applications of the agency do not wait for this one's commit.
    locking = [sql for sql in cost.sql if "FOR UPDATE" in sql]
    if connection.features.has_select_for_update_of:
        assert len(locking) == 1
        assert locking[0].endswith('FOR UPDATE OF "shinsei_application"'), locking


def test_sending_the_paid_email(demo: Any, citizen: Client) -> None:
    submitted, _ = submit_application(citizen)
    Application.objects.filter(pk=submitted.pk).update(
        status="accepted", payment_status="paid", fee_amount=600
    )
    paid = CitizenMail.objects.create(application=submitted, kind=CitizenMail.Kind.PAID)
    mail.outbox.clear()
    with counted() as cost:
        assert send_citizen_mail.call(mail_id=paid.pk) is True
    # The mail row locked with the columns the email needs of its application,
    # procedure, department and form version (a column missed would cost a
    # query more here); then marked sent — one transaction.
    assert_cost(cost, queries=2, transactions=1)
    [message] = mail.outbox
    assert message.to == ["hanako@example.jp"]
    assert message.subject == f"【{submitted.procedure.name}】手数料のお支払いを確認しました"
    assert submitted.reference in message.body
    assert "600円" in message.body
    # The task run again (a retry, a second worker): the row is marked sent,
    # so nothing more goes out.
    assert send_citizen_mail.call(mail_id=paid.pk) is False
    assert len(mail.outbox) == 1
    paid.refresh_from_db()
    assert paid.sent_at is not None


def test_sending_an_email_of_an_application_without_a_form_version(
    demo: Any, citizen: Client
) -> None:
    # Applications filed before form versions existed: the questions (and so
    # the address) come from the procedure.
    submitted, _ = submit_application(citizen)
    Application.objects.filter(pk=submitted.pk).update(form_version=None)
    owed = CitizenMail.objects.create(application=submitted, kind=CitizenMail.Kind.ACCEPTED)
    mail.outbox.clear()
    with counted() as cost:
        assert send_citizen_mail.call(mail_id=owed.pk) is True
    assert_cost(cost, queries=2, transactions=1)
    assert [m.to for m in mail.outbox] == [["hanako@example.jp"]]


# --- the pages around them, as the full flow (scenario b) views them --------


def test_the_pages_a_citizen_views_before_submitting(demo: Any, citizen: Client) -> None:
    with counted() as step:
        page = citizen.get(citizen.post("/procedures/juminhyo/")["Location"])
    assert page.status_code == 200
    # Starting: procedure (twice: the start page's and the form version's
    # look-up), form version, the new session (exists?, INSERT). The step:
    # procedure, session, form version.
    assert_cost(step, queries=8, transactions=2)
    fill_in(citizen, "juminhyo", ANSWERS)
    with counted() as check:
        assert citizen.get("/procedures/juminhyo/check").status_code == 200
    assert_cost(check, queries=3, transactions=0)


def test_the_staff_detail_page(demo: Any, submitted: Application) -> None:
    staff = staff_client(demo, "shimin")
    with counted() as cost:
        response = staff.get(f"/applications/{submitted.reference}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert submitted.reference in html
    # The header names the officer and the department read with the application.
    header = html.split('aria-label="職員メニュー"')[1].split("</nav>")[0]
    department = submitted.procedure.department.name
    assert department in header or department in response.context["account"].display_name
    assert "申請（申請者）" in html  # the history
    # Session, staff, permissions, application (with procedure, department,
    # agency: the header's department is the application's when they are
    # the same); the audit record (on PostgreSQL the chain's advisory lock,
    # then the chain's head, the record) in one transaction; events (history
    # and mismatch warnings from one read), refund requests, files, notes.
    # The session is not written: its last-seen time is under a minute old.
    assert_cost(cost, queries=10 + AUDIT_CHAIN_LOCK, transactions=1)


def test_the_citizen_status_page(citizen: Client, submitted: Application) -> None:
    with counted() as cost:
        response = citizen.get(f"/applications/{submitted.reference}/")
    assert response.status_code == 200
    # Session, application: what the citizen reloads while waiting.
    assert_cost(cost, queries=2, transactions=0)
