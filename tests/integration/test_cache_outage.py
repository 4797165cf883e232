"""Redis away, on a redis-server of the test's own (never the shared one):
what needs the cache for a limit that guards a secret fails closed with a
styled 503 (staff and console logins, the 整理番号 + password inquiry), what
does not goes on (a citizen pays, staff's acceptance requests the payment at
once, the merchant API answers), /readyz says which, and everything works
again when Redis is back."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from madoguchi.kessai.payments.models import Payment
from madoguchi.platform.models import Heartbeat
from tests.conftest import CARD_OK, login, staff_client
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application
from tests.support.servers import RedisServer, redis_server

UNAVAILABLE = "ただいま利用できません"


@pytest.fixture
def redis(settings: Settings, tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": server.url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        yield server


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert UNAVAILABLE in page
    assert "<html" in page  # the surface's own styled page, not a bare answer


def ready(host: str) -> tuple[int, dict[str, Any]]:
    response = Client(HTTP_HOST=host).get("/readyz")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_without_redis_logins_fail_closed_and_citizens_still_pay(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, redis: RedisServer
) -> None:
    application, password = submit_application(citizen)
    staff = staff_client(demo, "shimin")  # logged in while Redis is up
    Heartbeat.objects.create(
        name="worker-a", kind="worker", started_at=timezone.now(), seen_at=timezone.now()
    )

    redis.stop()

    # Logins and the inquiry check a secret: without their count, they refuse.
    for host in ("staff.shinsei.test", "console.kessai.test"):
        response = Client(HTTP_HOST=host, raise_request_exception=False).post(
            "/login", {"login_id": "staff-shimin", "password": "wrong-password-1"}
        )
        assert_unavailable(response)
    assert_unavailable(
        Client(HTTP_HOST="shinsei.test", raise_request_exception=False).post(
            "/inquiry", {"reference": application.reference, "password": password}
        )
    )
    # /readyz: the login listeners are not ready; the public ones are, degraded.
    for host in ("staff.shinsei.test", "console.kessai.test"):
        status, body = ready(host)
        assert (status, body["status"]) == (503, "not ready")
        assert body["checks"]["cache"] == "unreachable (ConnectionError)"
    for host in ("shinsei.test", "kessai.test"):
        status, body = ready(host)
        assert (status, body["status"]) == (200, "degraded")
        assert body["checks"]["cache"] == "unreachable (ConnectionError)"

    # Staff already logged in accept; the payment is requested at once.
    accept(staff, application)
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    # The merchant API answers (its rate limit only spreads load).
    payment = Payment.objects.get(reference=application.reference)
    key = demo["merchants"]["mayor"]["api_key"]
    response = Client(HTTP_HOST="kessai.test").get(
        f"/api/v1/payments/{payment.public_id}", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200, response.content
    # The citizen presses 支払う and pays by card.
    pay_path = open_payment_page(citizen, payer, application)
    response = pay_by_card(payer, pay_path, CARD_OK)
    assert response.status_code == 302, response.content.decode()[:500]
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "paid"

    redis.start()
    assert ready("staff.shinsei.test")[0] == 200
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-shimin")
    login(Client(HTTP_HOST="staff.shinsei.test"), account["login_id"], account["password"])


@pytest.mark.django_db(transaction=True)
def test_a_lockout_outlives_a_redis_restart_without_persistence(
    demo: dict[str, Any], redis: RedisServer
) -> None:
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-shimin")
    client = Client(HTTP_HOST="staff.shinsei.test")
    for _ in range(10):
        response = client.post(
            "/login", {"login_id": account["login_id"], "password": "wrong-password-1"}
        )
        assert response.status_code == 401
    # Redis restarts and has forgotten every count and block.
    redis.stop()
    redis.start()

    other = Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="127.0.0.9")
    response = other.post(
        "/login", {"login_id": account["login_id"], "password": account["password"]}
    )
    assert response.status_code == 429
    assert "30分後" in response.content.decode()
