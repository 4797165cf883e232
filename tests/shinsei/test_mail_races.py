"""Two workers run the same citizen-mail task at once (a retry overlapping a
slow first run, a task recovered from a worker thought lost): real concurrent
transactions on PostgreSQL (skipped on SQLite, which serialises every
writer). The mail row's lock lets one send; the other finds it sent."""

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client

from madoguchi.shinsei.applications.models import CitizenMail
from madoguchi.shinsei.applications.tasks import send_citizen_mail
from tests.support.journey import submit_application

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def run(barrier: threading.Barrier, outcomes: list[bool], mail_id: int) -> None:
    """One worker's run of the task, in its own thread and connection."""
    try:
        barrier.wait()
        outcomes.append(send_citizen_mail.call(mail_id=mail_id))
    finally:
        connections.close_all()


def test_two_runs_of_one_mail_task_send_it_once(demo: dict[str, Any], citizen: Client) -> None:
    submitted, _ = submit_application(citizen)
    for _ in range(5):
        owed = CitizenMail.objects.create(application=submitted, kind=CitizenMail.Kind.PAID)
        mail.outbox.clear()
        barrier = threading.Barrier(2)
        outcomes: list[bool] = []
        threads = [threading.Thread(target=run, args=(barrier, outcomes, owed.pk)) for _ in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == [False, True]
        assert [m.to for m in mail.outbox] == [["hanako@example.jp"]]
        owed.refresh_from_db()
        assert owed.sent_at is not None
