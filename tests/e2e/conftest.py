"""End-to-end fixtures: the real processes, started the way ``madoguchi up``
starts them, and Debian's Chromium driven by Playwright."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

CHROMIUM = os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _ports_free(base: int) -> bool:
    for offset in (0, 1, 100, 101, 200, 201, 202):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", base + offset)) == 0:
                return False
    return True


def _free_port_base() -> int:
    # Parallel runs on one machine can each set their own starting point.
    start = int(os.environ.get("MADOGUCHI_E2E_PORT_BASE", "21000"))
    for base in range(start, start + 19000, 300):
        if _ports_free(base):
            return base
    raise RuntimeError("no free port range")


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``madoguchi up`` in a fresh var directory; yields var/demo.json plus paths."""
    var = tmp_path_factory.mktemp("var")
    base = _free_port_base()
    log = open(var.parent / "up.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "madoguchi.cli", "up", "--var-dir", str(var),
         "--port-base", str(base)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    demo_path = var / "demo.json"
    deadline = time.monotonic() + 240  # migrations, seeding, then every /readyz
    demo: dict[str, Any] | None = None
    while time.monotonic() < deadline and process.poll() is None:
        if demo_path.exists() and b"Press Ctrl-C" in (var.parent / "up.log").read_bytes():
            demo = json.loads(demo_path.read_text())
            break
        time.sleep(0.5)
    if demo is None:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("madoguchi up did not start:\n" + (var.parent / "up.log").read_text())
    for url in demo["urls"].values():
        if url.endswith(".json"):
            continue
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:  # noqa: S310
            assert response.status == 200
    yield {**demo, "var": var, "process": process}
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("MADOGUCHI_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and browser tests are required")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


def reload_until(page: Any, locator: Any, text: str | None = None, *, seconds: float = 60) -> None:
    """Reload until the worker has done its part: each look is an auto-retrying
    expect() of a second, so a page still rendering is waited for, not misread."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if text is None:
                expect(locator).to_be_visible(timeout=1000)
            else:
                expect(locator).to_contain_text(text, timeout=1000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def console_login(page: Any, system: dict[str, Any]) -> bool:
    """Log the demo console administrator in. The first browser test to do so
    sets up the mandatory TOTP authenticator (returns True: the recovery codes
    were shown); later ones answer with the same secret, kept in ``system``."""
    from tests.support.otp import totp_code, totp_step

    admin = system["accounts"]["kessai_console"][0]
    page.goto(system["urls"]["kessai_console"] + "/login")
    page.get_by_label("ログインID").fill(admin["login_id"])
    page.get_by_label("パスワード").fill(admin["password"])
    page.get_by_role("button", name="ログイン").click()
    # Either the authenticator set-up (first login) or the code check.
    expect(page.get_by_label("確認コード")).to_be_visible()
    if page.locator("#totp-secret").count():
        secret = page.locator("#totp-secret").inner_text()
        step = totp_step()
        page.get_by_label("確認コード").fill(totp_code(secret, step))
        page.get_by_role("button", name="設定する").click()
        expect(page.locator(".recovery-codes li")).to_have_count(10)
        page.get_by_role("link", name="続ける").click()
        system["console_totp"] = {"secret": secret, "step": step}
        return True
    # A code is accepted once per 30 s step: a second login within the same
    # step uses the next one (inside the allowed drift).
    totp = system["console_totp"]
    totp["step"] = max(totp_step(), totp["step"] + 1)
    page.get_by_label("確認コード").fill(totp_code(totp["secret"], totp["step"]))
    page.get_by_role("button", name="確認する").click()
    return False
