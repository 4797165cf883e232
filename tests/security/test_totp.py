"""TOTP second factor: mandatory on Kessai's console, per agency in Shinsei."""

from base64 import b32decode
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.platform.otp import totp_check
from madoguchi.shinsei.procedures.models import Agency
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import console_client, current_totp
from tests.support.otp import account_secret, totp_code, totp_step

pytestmark = pytest.mark.django_db


def test_rfc6238_reference_value() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (last six digits).
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    key = b32decode(secret).hex()  # django-otp keeps it in hex
    assert totp_code(secret, 59 // 30) == "287082"
    assert totp_check(key, "287082", min_t=0, at=59) == 1
    assert totp_check(key, "287082", min_t=2, at=59) is None  # used already


def _admin(demo: dict[str, Any]) -> tuple[str, str]:
    entry = demo["console_accounts"][0]
    return entry["login_id"], entry["password"]


def test_console_requires_setting_up_totp_before_anything(demo: Any) -> None:
    login_id, password = _admin(demo)
    client = Client(HTTP_HOST="console.kessai.test")

    response = client.post("/login", {"login_id": login_id, "password": password})

    assert response["Location"] == "/login/totp-setup"
    assert client.get("/")["Location"].startswith("/login")
    page = client.get("/login/totp-setup")
    secret = page.context["secret"]
    assert 'src="data:image/svg+xml' in page.content.decode()
    assert client.post("/login/totp-setup", {"code": "000000"}).status_code == 400
    assert account_secret(ConsoleAccount.objects.get(login_id=login_id)) == ""

    done = client.post("/login/totp-setup", {"code": totp_code(secret, totp_step())})

    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert client.get("/").status_code == 200
    stored = ConsoleAccount.objects.get(login_id=login_id)
    assert account_secret(stored) == secret
    tokens = list(stored.recovery_devices.get().token_set.values_list("token", flat=True))
    assert len(tokens) == 10
    assert not any(code in str(tokens) for code in codes)  # only hashes


def test_console_login_asks_for_the_code_and_refuses_a_replay(demo: Any) -> None:
    console_client(demo, "viewer")
    account = ConsoleAccount.objects.get(login_id="console-viewer")
    used = totp_code(account_secret(account), account.totp_devices.get().last_t)
    client = Client(HTTP_HOST="console.kessai.test")

    response = client.post(
        "/login", {"login_id": "console-viewer", "password": "Console-test-pass-2026"}
    )
    assert response["Location"] == "/login/totp"
    assert client.get("/").status_code == 302

    assert client.post("/login/totp", {"code": used}).status_code == 401
    assert client.post("/login/totp", {"code": "123456x"}).status_code == 401
    assert client.get("/").status_code == 302


def test_a_recovery_code_works_once(demo: Any) -> None:
    login_id, password = _admin(demo)
    first = Client(HTTP_HOST="console.kessai.test")
    first.post("/login", {"login_id": login_id, "password": password})
    secret = first.get("/login/totp-setup").context["secret"]
    codes = first.post("/login/totp-setup", {"code": totp_code(secret, totp_step())}).context[
        "codes"
    ]

    def login_with(code: str) -> int:
        client = Client(HTTP_HOST="console.kessai.test")
        client.post("/login", {"login_id": login_id, "password": password})
        status: int = client.post("/login/totp", {"code": code.upper()}).status_code
        return status

    assert login_with(codes[3]) == 302
    assert login_with(codes[3]) == 401
    account = ConsoleAccount.objects.get(login_id=login_id)
    assert account.recovery_devices.get().token_set.count() == 9


@pytest.mark.parametrize(("required", "after_login"), [(False, "/"), (True, "/login/totp-setup")])
def test_shinsei_second_factor_is_set_per_agency(
    demo: Any, required: bool, after_login: str
) -> None:
    Agency.objects.filter(code="mayor").update(staff_totp_required=required)
    entry = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-shimin")
    client = Client(HTTP_HOST="staff.shinsei.test")

    response = client.post("/login", entry)

    assert response["Location"] == after_login
    # The other agency's staff are not affected.
    other = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-nougyou-jimukyoku")
    assert Client(HTTP_HOST="staff.shinsei.test").post("/login", other)["Location"] == "/"
    assert account_secret(StaffAccount.objects.get(login_id="staff-shimin")) == ""


def test_an_administrator_resets_a_lost_second_factor(demo: Any) -> None:
    client = console_client(demo, "viewer")
    out = StringIO()

    call_command("console_totp_reset", "console-viewer", stdout=out)

    assert out.getvalue() == "console-viewer: second factor cleared, 1 session(s) ended\n"
    assert client.get("/").status_code == 302
    response = Client(HTTP_HOST="console.kessai.test").post(
        "/login", {"login_id": "console-viewer", "password": "Console-test-pass-2026"}
    )
    assert response["Location"] == "/login/totp-setup"


def test_a_half_finished_login_left_idle_starts_again(demo: Any) -> None:
    console_client(demo, "viewer")
    client = Client(HTTP_HOST="console.kessai.test")
    client.post("/login", {"login_id": "console-viewer", "password": "Console-test-pass-2026"})
    session = client.session
    session["_last_seen"] -= 15 * 60 + 1
    session.save()

    response = client.post("/login/totp", {"code": "000000"})

    assert response["Location"] == "/login"


def test_a_password_alone_cannot_change_the_password_of_a_totp_account(demo: Any) -> None:
    console_client(demo, "viewer")
    ConsoleAccount.objects.filter(login_id="console-viewer").update(must_change_password=True)
    before = ConsoleAccount.objects.get(login_id="console-viewer").password
    client = Client(HTTP_HOST="console.kessai.test")
    old = "Console-test-pass-2026"
    assert (
        client.post("/login", {"login_id": "console-viewer", "password": old})["Location"]
        == "/login/totp"
    )
    new = "Shiyakusho2026kensa"

    response = client.post(
        "/password", {"current_password": old, "new_password": new, "new_password_again": new}
    )

    assert response["Location"] == "/login/totp"
    assert ConsoleAccount.objects.get(login_id="console-viewer").password == before
    # With the code, the forced change follows.
    response = client.post("/login/totp", {"code": current_totp("console-viewer")})
    assert response["Location"] == "/password"


def test_totp_guessing_is_throttled_by_the_device(demo: Any) -> None:
    """django-otp's throttling: after a wrong code the device refuses every
    code, the right one included, until its delay (1 s, then 2, 4, ...) has
    passed; the lockout still counts the attempts (test_sessions)."""
    console_client(demo, "viewer")
    device = ConsoleAccount.objects.get(login_id="console-viewer").totp_devices.get()
    client = Client(HTTP_HOST="console.kessai.test")
    client.post("/login", {"login_id": "console-viewer", "password": "Console-test-pass-2026"})
    assert client.post("/login/totp", {"code": "000000"}).status_code == 401
    assert client.post("/login/totp", {"code": "000001"}).status_code == 401

    within_delay = client.post("/login/totp", {"code": current_totp("console-viewer")})

    assert within_delay.status_code == 401
    device.refresh_from_db()
    # The second wrong code came within the first one's delay: it did not count.
    assert device.throttling_failure_count == 1
    device.throttling_failure_timestamp -= timedelta(seconds=1)
    device.save(update_fields=["throttling_failure_timestamp"])
    assert client.post("/login/totp", {"code": current_totp("console-viewer")}).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
