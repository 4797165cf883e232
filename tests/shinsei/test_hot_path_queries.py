"""Queries and transactions per hot operation in Shinsei (issue #10): a
citizen submitting, staff accepting, a notification from Kessai arriving.
Exact on purpose: a query added to the hot path fails here."""

from typing import Any

from django.db import connection
from django.test import Client

from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.procedures.models import Agency
from tests.conftest import staff_client
from tests.shinsei.test_notifications import application, deliver, event_body  # noqa: F401
from tests.support.journey import ANSWERS, fill_in, submit_application
from tests.support.queries import Counted, counted


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


def test_accepting_an_application(demo: Any, citizen: Client) -> None:
    submitted, _ = submit_application(citizen)
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
    # conditional UPDATE (not read back: the row is locked), the event, the
    # email and its task — one transaction.
    assert_cost(cost, queries=7, transactions=1)
    # The lock is on the application's row alone, not on the procedure,
    # department and agency it is joined with: notifications for other
    # applications of the agency do not wait for this one's commit.
    locking = [sql for sql in cost.sql if "FOR UPDATE" in sql]
    if connection.features.has_select_for_update_of:
        assert len(locking) == 1
        assert locking[0].endswith('FOR UPDATE OF "shinsei_application"'), locking
