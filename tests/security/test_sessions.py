"""Sessions and the second factor (issue #9 items 1, 3, 4 and 13): wrong
TOTP codes count toward the lockout, a half-finished login expires, the
session key changes at every change of privilege, the 2-hour lifetime is
absolute, expired sessions are deleted, logout is a POST, and the lockout is
exact under concurrent attempts."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.platform.accounts import PENDING_SINCE
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.passwords import password_problems
from madoguchi.platform.sessions.models import Session
from madoguchi.platform.sessions.store import SessionStore
from madoguchi.platform.worker import run_sweep, schedule_due
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import console_client, current_totp, staff_client
from tests.kessai.test_races import race
from tests.support.journey import submit_application

VIEWER_PASSWORD = "Console-test-pass-2026"


def _half_login(client: Client) -> None:
    response = client.post("/login", {"login_id": "console-viewer", "password": VIEWER_PASSWORD})
    assert response["Location"] == "/login/totp"


@pytest.mark.django_db
def test_ten_wrong_codes_lock_the_account_and_then_the_right_code_is_refused(demo: Any) -> None:
    console_client(demo, "viewer")
    account = ConsoleAccount.objects.get(login_id="console-viewer")
    client = Client(HTTP_HOST="console.kessai.test")
    _half_login(client)
    wrong = [client.post("/login/totp", {"code": "000000"}).status_code for _ in range(10)]

    response = client.post("/login/totp", {"code": current_totp("console-viewer")})

    assert wrong == [401] * 10
    assert response.status_code == 429
    assert "30分後" in response.content.decode()
    assert "_account_key" not in client.session
    assert AuditRecord.objects.filter(actor=account.account_key, event="account.lockout").exists()
    # The password does not open it either until the lockout ends.
    again = Client(HTTP_HOST="console.kessai.test")
    assert (
        again.post(
            "/login", {"login_id": "console-viewer", "password": VIEWER_PASSWORD}
        ).status_code
        == 429
    )


@pytest.mark.django_db
def test_a_half_finished_login_expires_however_busy(demo: Any) -> None:
    console_client(demo, "viewer")
    client = Client(HTTP_HOST="console.kessai.test")
    _half_login(client)
    session = client.session
    session[PENDING_SINCE] -= 10 * 60 + 1  # the password was accepted ten minutes ago
    session.save()
    client.post("/login/totp", {"code": "000000"})  # busy: never idle

    response = client.post("/login/totp", {"code": current_totp("console-viewer")})

    assert response["Location"] == "/login"
    assert "_account_key" not in client.session


@pytest.mark.django_db
def test_the_session_key_changes_when_the_second_factor_is_proved(demo: Any) -> None:
    console_client(demo, "viewer")
    client = Client(HTTP_HOST="console.kessai.test")
    _half_login(client)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post("/login/totp", {"code": current_totp("console-viewer")})

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert not Session.objects.filter(session_key=before).exists()


@pytest.mark.django_db
def test_the_session_key_changes_when_a_citizen_proves_the_inquiry(
    demo: Any, citizen: Client
) -> None:
    application, password = submit_application(citizen)
    victim = Client(HTTP_HOST="shinsei.test")
    planted = SessionStore()
    planted.create()  # a key an attacker obtained and planted in the victim's browser
    assert planted.session_key is not None
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    response = victim.post("/inquiry", {"reference": application.reference, "password": password})

    assert response.status_code == 302
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    attacker = Client(HTTP_HOST="shinsei.test")
    attacker.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert attacker.get(f"/applications/{application.reference}/").status_code == 404


@pytest.mark.django_db
def test_the_two_hour_lifetime_does_not_slide_with_use(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    ends = Session.objects.get(session_key=key).expire_date
    assert ends - timezone.now() <= timedelta(hours=2)

    for _ in range(3):
        assert client.get("/").status_code == 200

    assert Session.objects.get(session_key=key).expire_date == ends


@pytest.mark.django_db
def test_a_session_past_its_two_hours_ends_though_it_was_used_a_minute_ago(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    session = client.session
    assert not session.get("_account_key")  # what the next request will load

    assert client.get("/")["Location"].startswith("/login")


@pytest.mark.django_db
def test_expired_sessions_are_deleted_by_the_periodic_sweep() -> None:
    old, live = SessionStore(), SessionStore()
    old["answers"] = {"name": "藤沢 花子"}
    old.set_expiry(-1)
    old.create()
    live.create()

    sweep = "madoguchi.platform.sessions.store.sessions_sweep"
    assert sweep in schedule_due()  # every service's scheduler runs it
    assert run_sweep.call(name=sweep)

    assert not Session.objects.filter(session_key=old.session_key).exists()
    assert Session.objects.filter(session_key=live.session_key).exists()


@pytest.mark.django_db
def test_logout_is_a_post(demo: Any) -> None:
    client = staff_client(demo, "shimin")

    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    page = client.get("/").content.decode()
    assert 'method="post" action="/logout"' in page
    assert client.post("/logout")["Location"] == "/login"
    assert client.get("/")["Location"].startswith("/login")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["staff-shiminstaff-shimin1", "Staff-Shimin-2026-x", "x9市民課担当者市民課担当者"],
)
def test_policy_refuses_the_login_id_or_name_contained(demo: Any, password: str) -> None:
    account = StaffAccount.objects.get(login_id="staff-shimin")
    account.display_name = "市民課担当者"

    problems = password_problems(password, account=account)

    assert any("ログインIDや氏名" in p for p in problems), problems


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
)
def test_twenty_concurrent_wrong_passwords_check_exactly_ten(demo: Any) -> None:
    def attempt() -> int:
        client = Client(HTTP_HOST="staff.shinsei.test")
        return client.post(
            "/login", {"login_id": "staff-shimin", "password": "wrong-password-1"}
        ).status_code

    statuses = race(*[attempt] * 20)

    assert sorted(statuses) == [401] * 10 + [429] * 10
    assert AuditRecord.objects.filter(event="login", outcome="failure").count() == 10
