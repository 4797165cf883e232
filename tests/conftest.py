"""Fixtures for every test tree. Each tree runs under its own service's
settings (tests/support/groups.py), so nothing here imports a service's
models at import time: the fixtures use whichever services this process has.
"""

from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from madoguchi.platform.worker import run_ready_tasks
from madoguchi.simulators import acquirer, paypay
from tests.support import groups
from tests.support.otp import account_secret, totp_code, totp_enrol, totp_step


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    return groups.dispatch(config)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    groups.record(terminalreporter)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser and process tests run last in their process: Playwright's sync
    API keeps an event loop on the main thread for the rest of the session,
    and Django refuses to open a database connection from there afterwards."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


# Test card numbers of the acquirer sandbox (docs/test-cards.md).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits and lockouts count in the cache: each test starts at zero."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


class Clock:
    """Moves ``time.time`` (which the cache's expiry and the throttle follow)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import time

        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(autouse=True)
def _fresh_acquirer() -> None:
    acquirer.STATE.results.clear()
    acquirer.STATE.refunds.clear()
    acquirer.STATE.challenges.clear()
    paypay.STATE.reset()
    acquirer.STATE.fail_next = acquirer.STATE.lose_next = 0
    return


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker closes "old" connections between claims, as Django does
    between requests; inside a test's transaction that would close the test's
    own connection (Django's test client disconnects the same call for
    requests)."""
    from madoguchi.platform import worker

    monkeypatch.setattr(worker, "close_old_connections", lambda: None)


@pytest.fixture
def demo(db: None) -> dict[str, Any]:
    """The services of this process seeded as ``madoguchi up`` seeds them
    (under Shinsei's settings alone, with the credentials Kessai would issue)."""
    seeded: dict[str, Any] = {}
    if apps.is_installed("madoguchi.kessai.merchants"):
        from madoguchi.kessai.merchants.demo import seed_demo as kessai_seed_demo

        kessai = kessai_seed_demo(shinsei_public_url="http://shinsei.test")
        assert kessai is not None
        seeded.update(kessai)
    if apps.is_installed("madoguchi.shinsei.procedures"):
        from madoguchi.shinsei.procedures.demo import seed_demo as shinsei_seed_demo

        credentials = seeded or _kessai_credentials_stand_in()
        shinsei = shinsei_seed_demo(kessai_credentials=credentials)
        assert shinsei is not None
        seeded.update(shinsei)
    return seeded


def _kessai_credentials_stand_in() -> dict[str, Any]:
    from madoguchi.platform.demo import DEMO_AGENCIES

    return {
        "merchants": {
            code: {"api_key": f"sk_test_{code}", "notification_secret": f"whsec_test_{code}"}
            for code, _ in DEMO_AGENCIES
        }
    }


@pytest.fixture
def run_tasks() -> Any:
    return run_ready_tasks


@pytest.fixture
def citizen() -> Client:
    return Client(HTTP_HOST="shinsei.test")


@pytest.fixture
def payer() -> Client:
    """The citizen's browser on Kessai's payment page."""
    return Client(HTTP_HOST="kessai.test")


@pytest.fixture
def api_client() -> Client:
    return Client(HTTP_HOST="kessai.test")


def staff_client(demo: dict[str, Any], department_code: str) -> Client:
    """A staff member of the department, logged in (answering TOTP if the
    agency requires it)."""
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == f"staff-{department_code}")
    login(client, account["login_id"], account["password"])
    return client


def login(client: Client, login_id: str, password: str) -> None:
    """Log in through the real pages; provisions and answers TOTP when the
    account needs it, so tests stay one line."""
    response = client.post("/login", {"login_id": login_id, "password": password})
    assert response.status_code == 302, response.content
    if response["Location"].endswith("/login/totp-setup"):
        response = client.get("/login/totp-setup")
        secret = response.context["secret"]
        response = client.post("/login/totp-setup", {"code": totp_code(secret, totp_step())})
        assert response.status_code == 200, response.content
    elif response["Location"].endswith("/login/totp"):
        response = client.post("/login/totp", {"code": current_totp(login_id)})
        assert response.status_code == 302, response.content
    else:
        assert "/password" not in response["Location"], "password change owed"
    assert "_account_key" in client.session


ACCOUNT_MODELS = (("shinsei_staff", "StaffAccount"), ("kessai_console", "ConsoleAccount"))


def current_totp(login_id: str) -> str:
    """The code an authenticator app would show now for this account."""
    account = None
    for label, model_name in (
        ("shinsei_staff", "StaffAccount"),
        ("kessai_console", "ConsoleAccount"),
    ):
        if account is None and label in apps.app_configs:
            account = apps.get_model(label, model_name).objects.filter(login_id=login_id).first()
    assert account is not None
    # A code is accepted once per 30 s step: logging in twice within one step
    # uses the next step's code (inside the allowed drift).
    device = account.totp_devices.get()
    step = max(totp_step(), device.last_t + 1)
    assert step <= totp_step() + 1, "more logins of one account than the drift allows"
    return totp_code(account_secret(account), step)


def console_client(demo: dict[str, Any] | None = None, role: str = "administrator") -> Client:
    """A console account of ``role``, logged in with its second factor."""
    from madoguchi.kessai.console.models import ConsoleAccount

    login_id = f"console-{role}"
    password = "Console-test-pass-2026"
    account = ConsoleAccount.objects.filter(login_id=login_id).first()
    if account is None:
        account = ConsoleAccount(
            login_id=login_id,
            display_name=f"テスト {role}",
            role=role,
            must_change_password=False,
        )
        account.set_password(password)
        account.save()
        totp_enrol(account)
    client = Client(HTTP_HOST="console.kessai.test")
    login(client, login_id, password)
    return client
