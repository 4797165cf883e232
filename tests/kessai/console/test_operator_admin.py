"""Django's admin on the console listener: payment administrators only,
read-only, no card data; not on the public listener at all."""

from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.console.admin import site
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments.models import Attempt, Payment
from madoguchi.platform.audit.models import AuditRecord
from tests.conftest import CARD_OK, console_client

pytestmark = pytest.mark.django_db


def resolve_admin_patterns() -> list[Any]:
    patterns: list[Any] = []
    for entry in site.get_urls():
        patterns.extend(getattr(entry, "url_patterns", [entry]))
    return patterns


LISTS = [
    "kessai_payments/payment",
    "kessai_payments/attempt",
    "kessai_payments/notification",
    "django_tasks_database/dbtaskresult",
    "kessai_console/consoleaccount",
    "platform_audit/auditrecord",
]


@pytest.mark.parametrize("model", LISTS)
def test_administrators_see_every_list(demo: dict[str, Any], model: str) -> None:
    client = console_client(demo, "administrator")

    assert client.get(f"/ops/{model}/").status_code == 200


def test_viewers_are_refused_and_it_is_audited(demo: dict[str, Any]) -> None:
    client = console_client(demo, "viewer")

    assert client.get("/ops/").status_code == 403
    assert AuditRecord.objects.filter(event="admin.view", outcome="denied").exists()


def test_without_login_the_admin_sends_to_the_console_login(demo: dict[str, Any]) -> None:
    response = Client(HTTP_HOST="console.kessai.test").get("/ops/kessai_payments/payment/")

    assert response.status_code == 302
    assert response["Location"].startswith("/ops/login/")
    login = Client(HTTP_HOST="console.kessai.test").get(response["Location"])
    assert login["Location"].startswith("/login?next=")


def test_the_public_listener_has_no_admin(demo: dict[str, Any]) -> None:
    assert Client(HTTP_HOST="kessai.test").get("/ops/").status_code == 404


def test_nothing_can_be_added_changed_or_deleted(demo: dict[str, Any]) -> None:
    client = console_client(demo, "administrator")

    names = {p.name for p in resolve_admin_patterns()}
    assert "kessai_payments_payment_change" in names
    assert not {n for n in names if n and n.endswith(("_add", "_delete"))}
    page = client.get("/ops/kessai_console/consoleaccount/").content.decode()
    assert 'name="action"' not in page


def test_an_attempt_shows_no_card_data(demo: dict[str, Any], api_client: Client) -> None:
    payment = Payment.objects.create(
        merchant=Merchant.objects.get(code="mayor"),
        reference="R-1",
        amount=300,
        return_url="http://shinsei.test/r",
    )
    attempt = Attempt.objects.create(
        payment=payment, method="card", card_brand="visa", card_last4=CARD_OK[-4:]
    )
    client = console_client(demo, "administrator")

    response = client.get(f"/ops/kessai_payments/attempt/{attempt.pk}/change/")
    page = response.content.decode()

    assert response.status_code == 200
    assert CARD_OK[-4:] not in page
    assert "visa" not in page.lower()


def test_every_admin_model_refuses_lookups_it_does_not_declare(demo: dict[str, Any]) -> None:
    from tests.support.admin_lookups import assert_only_declared_lookups

    client = console_client(demo, "administrator")
    for probe in (
        {"password__startswith": "argon2"},
        {"password__gte": "a"},
    ):
        assert client.get("/ops/kessai_console/consoleaccount/", probe).status_code == 400
    # Card brand and last four: not on the screen, and not by filtering either.
    assert client.get("/ops/kessai_payments/attempt/", {"card_last4": "4242"}).status_code == 400
    assert client.get("/ops/kessai_payments/attempt/", {"card_brand": "visa"}).status_code == 400
    walked = assert_only_declared_lookups(site, client)
    assert {"kessai_payments.Attempt", "kessai_console.ConsoleAccount"} <= set(walked)
    assert AuditRecord.objects.filter(event="admin.list", outcome="denied").count() >= 4
