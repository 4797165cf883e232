"""Accounts of both services: password policy, expiry, first-login change,
transfer (異動), lockout, idle timeout (seed 2(6)ア, PCI DSS 8.3)."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.platform.accounts import LAST_SEEN, account_change_password
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.sessions.models import Session
from madoguchi.shinsei.procedures.models import Department
from madoguchi.shinsei.staff.models import StaffAccount
from madoguchi.shinsei.staff.services import staff_transfer
from tests.conftest import console_client, staff_client

pytestmark = pytest.mark.django_db

GOOD = "Shiyakusho2026kensa"


def _staff(demo: dict[str, Any], code: str = "shimin") -> tuple[StaffAccount, str]:
    entry = next(a for a in demo["staff_accounts"] if a["login_id"] == f"staff-{code}")
    return StaffAccount.objects.get(login_id=entry["login_id"]), entry["password"]


def _post_login(client: Client, login_id: str, password: str, **extra: Any) -> Any:
    return client.post("/login", {"login_id": login_id, "password": password}, **extra)


# --- policy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short12", "12文字以上"),
        ("onlylettersherexx", "英字と数字"),
        ("123456789012345", "英字と数字"),
        ("qwerty123456", "よく使われる"),  # Django's common-password list, without contrib.auth
        ("staff-shimin12", "ログインID"),
    ],
)
def test_policy_refuses_weak_passwords(demo: Any, password: str, problem: str) -> None:
    account, _ = _staff(demo)
    before = account.password

    problems = account_change_password(account=account, raw_password=password)

    assert any(problem in p for p in problems), problems
    account.refresh_from_db()
    assert account.password == before


def test_policy_refuses_the_last_four_passwords_and_accepts_the_fifth(demo: Any) -> None:
    account, first = _staff(demo)
    for n in range(1, 4):
        assert account_change_password(account=account, raw_password=f"{GOOD}{n}") == []
    # Now the last four are: first, GOOD1, GOOD2, GOOD3.
    for old in (first, f"{GOOD}1", f"{GOOD}3"):
        assert any(
            "直近4回" in p for p in account_change_password(account=account, raw_password=old)
        )
    assert account_change_password(account=account, raw_password=f"{GOOD}4") == []
    # `first` has dropped out of the last four.
    assert account_change_password(account=account, raw_password=first) == []
    account.refresh_from_db()
    assert account.password.startswith("argon2$argon2id$")
    assert len(account.password_history) == 3


# --- expiry and first login ------------------------------------------------------


def test_a_password_366_days_old_forces_a_change(demo: Any) -> None:
    account, password = _staff(demo)
    StaffAccount.objects.filter(pk=account.pk).update(
        password_changed_at=timezone.now() - timedelta(days=366)
    )
    client = Client(HTTP_HOST="staff.shinsei.test")

    response = _post_login(client, account.login_id, password)

    assert response["Location"] == "/password"
    assert client.get("/").status_code == 302  # the inbox stays closed
    assert client.get("/")["Location"].startswith("/login")
    page = client.get("/password")
    assert "有効期限が切れました" in page.content.decode()
    response = client.post(
        "/password",
        {"current_password": password, "new_password": GOOD, "new_password_again": GOOD},
    )
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    account.refresh_from_db()
    assert not account.password_expired()
    assert (
        AuditRecord.objects.filter(actor=account.account_key, event="password.change").count() == 1
    )


def test_a_password_364_days_old_is_still_good(demo: Any) -> None:
    account, password = _staff(demo)
    StaffAccount.objects.filter(pk=account.pk).update(
        password_changed_at=timezone.now() - timedelta(days=364)
    )
    response = _post_login(Client(HTTP_HOST="staff.shinsei.test"), account.login_id, password)
    assert response["Location"] == "/"


def test_expiry_while_logged_in_sends_to_the_change(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    account, _ = _staff(demo)
    StaffAccount.objects.filter(pk=account.pk).update(
        password_changed_at=timezone.now() - timedelta(days=400)
    )
    response = client.get("/")
    assert response["Location"] == "/password"


def test_an_account_made_by_an_administrator_must_change_at_first_login(demo: Any) -> None:
    account = StaffAccount(
        login_id="new-staff", display_name="新任", department=Department.objects.get(code="shimin")
    )
    account.set_password("Temporary2026pass")
    account.save()
    client = Client(HTTP_HOST="staff.shinsei.test")

    response = _post_login(client, "new-staff", "Temporary2026pass")

    assert response["Location"] == "/password"
    # The same password again is refused (it is one of the last four).
    response = client.post(
        "/password",
        {
            "current_password": "Temporary2026pass",
            "new_password": "Temporary2026pass",
            "new_password_again": "Temporary2026pass",
        },
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_changing_on_purpose_needs_the_current_password(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    account, _ = _staff(demo)
    before = account.password
    response = client.post(
        "/password", {"current_password": "wrong", "new_password": GOOD, "new_password_again": GOOD}
    )
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.password == before


# --- transfer (異動) ---------------------------------------------------------------


def test_a_transferred_account_is_refused_on_its_next_request(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    assert client.get("/").status_code == 200
    account, password = _staff(demo)

    call_command("staff_transfer", account.login_id, "--department", "shiminzei")

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
    assert not Session.objects.filter(account_key=account.account_key).exists()
    account.refresh_from_db()
    assert account.department.code == "shiminzei"
    assert account.must_change_password
    # The old password now only leads to the forced change.
    assert (
        _post_login(Client(HTTP_HOST="staff.shinsei.test"), account.login_id, password)["Location"]
        == "/password"
    )
    assert AuditRecord.objects.filter(
        event="account.transfer", resource=account.account_key
    ).exists()


def test_leaving_disables_the_account(demo: Any) -> None:
    client = staff_client(demo, "shimin")
    account, password = _staff(demo)

    ended = staff_transfer(account=account, actor="system:test", leave=True)

    assert ended == 1
    assert client.get("/").status_code == 302
    response = _post_login(Client(HTTP_HOST="staff.shinsei.test"), account.login_id, password)
    assert response.status_code == 401
    assert not StaffAccount.objects.get(pk=account.pk).is_active


def test_console_transfer_changes_role_and_ends_sessions(demo: Any) -> None:
    client = console_client(demo, "administrator")
    assert client.get("/").status_code == 200

    call_command("console_account_transfer", "console-administrator", "--role", "viewer")

    assert client.get("/").status_code == 302
    account = ConsoleAccount.objects.get(login_id="console-administrator")
    assert account.role == "viewer"
    assert account.must_change_password


# --- lockout --------------------------------------------------------------------


def test_the_eleventh_attempt_after_ten_wrong_passwords_is_locked_out(
    demo: Any, clock: Any
) -> None:
    account, password = _staff(demo)
    client = Client(HTTP_HOST="staff.shinsei.test")
    for _ in range(10):
        assert _post_login(client, account.login_id, "wrong-password-1").status_code == 401

    response = _post_login(client, account.login_id, password)  # even the right one

    assert response.status_code == 429
    assert "30分後" in response.content.decode()
    assert "_account_key" not in client.session
    assert (
        AuditRecord.objects.filter(actor=account.account_key, event="account.lockout").count() == 1
    )
    # From another address the account is still locked (per account).
    other = Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="127.0.0.9")
    assert _post_login(other, account.login_id, password).status_code == 429
    # Thirty minutes later it opens again.
    clock.advance(30 * 60 + 1)
    assert _post_login(other, account.login_id, password).status_code == 302


def test_nine_failures_then_the_right_password_is_let_in(demo: Any) -> None:
    account, password = _staff(demo)
    client = Client(HTTP_HOST="staff.shinsei.test")
    for _ in range(9):
        _post_login(client, account.login_id, "wrong-password-1")
    assert _post_login(client, account.login_id, password).status_code == 302


def test_ten_failures_from_one_address_lock_that_address_for_every_account(demo: Any) -> None:
    account, password = _staff(demo)
    attacker = Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="127.0.0.66")
    for n in range(10):
        _post_login(attacker, f"guess-{n}", "wrong-password-1")

    assert _post_login(attacker, account.login_id, password).status_code == 429
    # The account itself is not locked: from its own terminal it logs in.
    assert (
        _post_login(Client(HTTP_HOST="staff.shinsei.test"), account.login_id, password).status_code
        == 302
    )


def test_console_lockout_too(demo: Any) -> None:
    console_client(demo, "viewer")
    client = Client(HTTP_HOST="console.kessai.test")
    for _ in range(10):
        _post_login(client, "console-viewer", "wrong-password-1")
    assert _post_login(client, "console-viewer", "Console-test-pass-2026").status_code == 429


# --- idle timeout ------------------------------------------------------------------


@pytest.mark.parametrize(("idle", "status"), [(14 * 60 + 59, 200), (15 * 60 + 1, 302)])
def test_sessions_end_after_fifteen_idle_minutes(demo: Any, idle: int, status: int) -> None:
    client = staff_client(demo, "shimin")
    session = client.session
    session[LAST_SEEN] = int(time.time()) - idle
    session.save()

    assert client.get("/").status_code == status


def test_activity_is_written_back_at_most_once_a_minute(demo: Any) -> None:
    """A staff page within a minute of the last write leaves the session row
    alone; after a minute the new time is written, and idleness counts from
    there."""
    client = staff_client(demo, "shimin")
    written = int(time.time()) - 30
    session = client.session
    session[LAST_SEEN] = written
    session.save()
    assert client.get("/").status_code == 200
    assert client.session[LAST_SEEN] == written
    session = client.session
    session[LAST_SEEN] = written = int(time.time()) - 61
    session.save()
    assert client.get("/").status_code == 200
    assert client.session[LAST_SEEN] >= written + 61


def test_an_unknown_login_id_locks_like_a_real_one_and_is_not_recorded(demo: Any) -> None:
    typed = "MyPassw0rd-typed-as-id"
    responses = [
        _post_login(
            Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR=f"127.0.1.{n}"), typed, "x"
        ).status_code
        for n in range(11)
    ]

    assert responses == [401] * 10 + [429]
    assert not AuditRecord.objects.filter(actor__contains=typed).exists()
    assert AuditRecord.objects.filter(actor="staff-login:unknown").count() == 11
