"""/metrics on the internal listeners only (issue #11 item 2)."""

from typing import Any

import pytest
from django.test import Client

from tests.conftest import staff_client
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, default: float | None = None, **labels: str) -> float:
    """The value of the first sample of ``name`` whose labels include ``labels``."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    if default is not None:
        return default
    raise AssertionError(f"no sample {name} {labels}")


@pytest.mark.parametrize("host", ["shinsei.test", "kessai.test"])
def test_no_metrics_on_public_listeners(host: str) -> None:
    assert Client(HTTP_HOST=host).get("/metrics").status_code == 404


def test_metrics_after_a_paid_journey(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    path = open_payment_page(citizen, payer, application)
    assert pay_by_card(payer, path, "4242424242424242").status_code == 302
    # A notification is waiting for the worker.
    console = Client(HTTP_HOST="console.kessai.test").get("/metrics")
    assert console.status_code == 200
    assert console["Content-Type"].startswith("text/plain")
    text = console.content.decode()
    assert sample(text, "madoguchi_payments", status="succeeded", method="card") == 1
    assert sample(text, "madoguchi_notifications_pending") == 1
    assert sample(text, "madoguchi_tasks_queued", queue="default") >= 1
    assert sample(text, "madoguchi_attempts_unknown") == 0
    assert (
        sample(
            text,
            "madoguchi_http_requests_total",
            surface="kessai_public",
            route="pay/<str:public_id>/card",
            status="302",
        )
        >= 1
    )
    run_tasks()
    text = Client(HTTP_HOST="staff.shinsei.test").get("/metrics").content.decode()
    assert sample(text, "madoguchi_notifications_pending") == 0
    assert sample(text, "madoguchi_notification_deliveries_total", outcome="delivered") >= 1
    # No payment data beyond counts: not the reference, not the amount's owner.
    assert application.reference not in text


def test_login_failures_are_counted(demo: dict[str, Any]) -> None:
    def failures() -> float:
        text = Client(HTTP_HOST="staff.shinsei.test").get("/metrics").content.decode()
        return sample(text, "madoguchi_login_failures_total", 0.0, namespace="staff")

    before = failures()
    Client(HTTP_HOST="staff.shinsei.test").post(
        "/login", {"login_id": "staff-shimin", "password": "wrong-password-1"}
    )
    assert failures() == before + 1


@pytest.mark.parametrize("host", ["staff.shinsei.test", "console.kessai.test"])
def test_metrics_ask_the_scraper_for_its_token(host: str, settings: Any) -> None:
    settings.MADOGUCHI_METRICS_TOKEN = "scrape-token-for-the-test-0123456789"
    client = Client(HTTP_HOST=host)
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert b"madoguchi_" not in refused.content
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-for-the-test-x")
    assert wrong.status_code == 401
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-for-the-test-0123456789")
    assert right.status_code == 200
    assert b"madoguchi_" in right.content


def test_up_gives_every_service_a_scrape_token(tmp_path: Any) -> None:
    from madoguchi.cli import load_or_create_secrets, service_env

    keys = load_or_create_secrets(tmp_path)
    assert len(keys["metrics_token"]) >= 40
    for service in ("shinsei", "kessai"):
        env = service_env(service, tmp_path, 8000, "127.0.0.1", keys)
        assert env["MADOGUCHI_METRICS_TOKEN"] == keys["metrics_token"]
