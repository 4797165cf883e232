"""Staff and citizen screens say what happened in plain words and style it
for what it is (issue 9, items 24 and 28): the acceptance email, which
follows Kessai's answer to the payment request (the screens themselves:
tests/shinsei/test_staff_and_citizen_screens.py)."""

from typing import Any

from django.core import mail
from django.test import Client

from tests.conftest import staff_client
from tests.support.journey import accept, submit_application


def test_acceptance_email_links_to_the_payment(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    accepted = next(m for m in mail.outbox if "申請を受理しました" in m.subject)
    link = f"http://shinsei.test/applications/{application.reference}/payment"
    assert link in accepted.body
    # In the browser that applied, it opens the status page at 支払う ...
    opened = citizen.get(link.removeprefix("http://shinsei.test"))
    assert opened["Location"] == f"/applications/{application.reference}/#pay"
    assert 'id="pay"' in citizen.get(opened["Location"]).content.decode()
    # ... elsewhere, the inquiry form with the 整理番号 filled in.
    other = Client(HTTP_HOST="shinsei.test")
    opened = other.get(link.removeprefix("http://shinsei.test"))
    assert opened["Location"] == f"/inquiry?reference={application.reference}"
    assert f'value="{application.reference}"' in other.get(opened["Location"]).content.decode()
