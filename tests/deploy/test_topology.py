"""The production topology on this machine (deploy/topology.py): nginx with
TLS in front of two web processes per public surface, two workers and a
scheduler per service, PostgreSQL with a role per service. Citizens pay
through nginx while one Shinsei web process and one Kessai worker are killed
with SIGKILL; every payment still succeeds and every notification arrives."""

import importlib.util
import os
import re
import shutil
import signal
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.journey import ANSWERS

# Slow (real processes): outside the fast run (-m "not e2e"), in CI's first run.
pytestmark = [pytest.mark.e2e, pytest.mark.topology]

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[2]
PAYMENTS = 6


def _postgres_up() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 5432)) == 0


def _load_topology() -> Any:
    spec = importlib.util.spec_from_file_location("topology", ROOT / "deploy" / "topology.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        if os.environ.get("CI"):
            pytest.fail("nginx is missing (apt-get install nginx-light)")
        pytest.skip("Debian's nginx is not installed (apt-get install nginx-light)")
    if not _postgres_up():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    module = _load_topology()
    base = int(os.environ.get("MADOGUCHI_E2E_PORT_BASE", "21000")) + 3000
    system = module.Topology(
        base=base,
        var=tmp_path_factory.mktemp("topology"),
        admin_url=ADMIN_URL,
        prefix=f"madoguchi_topo_{os.getpid()}",
    )
    try:
        info = system.start()
        yield system, info
    finally:
        system.stop()
        system.drop_databases()


class Browser:
    """A person's browser, roughly: cookies, CSRF tokens from the forms, and
    pressing again when the page did not load (502, connection reset)."""

    def __init__(self, ca: str) -> None:
        context = ssl.create_default_context(cafile=ca)
        self.http = httpx.Client(verify=context, timeout=30, follow_redirects=False)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for _ in range(8):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if response.status_code in (502, 503, 504):
                time.sleep(0.5)
                continue
            return response
        raise AssertionError(f"{method} {url} never answered")

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)

    def submit(
        self, url: str, data: dict[str, str], form_page: str | None = None
    ) -> httpx.Response:
        page = self.get(form_page or url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
        return self.request(
            "POST",
            url,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            headers={"Origin": origin, "Referer": form_page or url},
        )


def apply(browser: Browser, shinsei: str) -> str:
    response = browser.submit(f"{shinsei}/procedures/juminhyo/", {})
    location = response.headers["location"]
    for _ in range(10):
        if "/steps/" not in location:
            break
        response = browser.submit(shinsei + location, ANSWERS)
        assert response.status_code == 302, response.text[:1000]
        location = response.headers["location"]
    response = browser.submit(shinsei + location, {})
    assert response.status_code == 302
    page = browser.get(shinsei + response.headers["location"])
    match = re.search(r'data-testid="reference">(\d+)<', page.text)
    assert match, page.text[:1000]
    return match.group(1)


def pay(browser: Browser, shinsei: str, kessai: str, reference: str) -> None:
    status = f"{shinsei}/applications/{reference}/"
    deadline = time.monotonic() + 60
    while 'id="pay-button"' not in browser.get(status).text:
        assert time.monotonic() < deadline, "the payment was never requested"
        time.sleep(0.5)
    response = browser.submit(f"{shinsei}/applications/{reference}/pay", {}, form_page=status)
    assert response.status_code == 302, response.text[:500]
    response = browser.get(response.headers["location"])  # the single-use link
    pay_page = kessai + response.headers["location"]
    response = browser.submit(
        pay_page + "card",
        {"card_number": "4242424242424242", "exp_month": "12", "exp_year": "2031",
         "security_code": "123"},
        form_page=pay_page,
    )  # fmt: skip
    assert response.status_code == 302, response.text[:500]


def test_payments_survive_a_killed_web_process_and_worker(
    topology: tuple[Any, dict[str, Any]],
) -> None:
    system, info = topology
    urls, ca = info["urls"], info["ca"]
    shinsei, kessai = urls["shinsei_public"], urls["kessai_public"]

    # Each service's role reaches its own database and not the other's.
    databases = info["database_urls"]
    other = databases["kessai"].rsplit("/", 1)[0] + "/" + databases["shinsei"].rsplit("/", 1)[1]
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(other).close()

    staff = Browser(ca)
    account = next(a for a in info["demo"]["shinsei"]["staff_accounts"]
                   if a["login_id"] == "staff-shimin")  # fmt: skip
    response = staff.submit(
        urls["shinsei_staff"] + "/login",
        {"login_id": account["login_id"], "password": account["password"]},
    )
    assert response.status_code == 302
    citizens = [Browser(ca) for _ in range(PAYMENTS)]
    references = [apply(citizen, shinsei) for citizen in citizens]
    for reference in references:
        detail = urls["shinsei_staff"] + f"/applications/{reference}/"
        response = staff.submit(detail + "accept", {}, form_page=detail)
        assert response.status_code == 302

    pay(citizens[0], shinsei, kessai, references[0])
    pay(citizens[1], shinsei, kessai, references[1])
    # Mid-load: one of the two Shinsei public processes and one Kessai worker die.
    errors: list[BaseException] = []

    def pay_rest(indexes: list[int]) -> None:
        try:
            for i in indexes:
                pay(citizens[i], shinsei, kessai, references[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pay_rest, args=(part,)) for part in ([2, 4], [3, 5])]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    for name in ("shinsei_public-0", "kessai_worker-0"):
        process = system.child(name).process
        os.killpg(process.pid, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors

    # Every payment succeeded and Shinsei heard of each one. A delivery the
    # killed worker held waits out its lease (60 s) and the notification sweep's
    # "overdue by 2 minutes" before another worker sends it: allow for that.
    deadline = time.monotonic() + 240
    while True:
        with psycopg.connect(databases["shinsei"]) as db:
            paid = db.execute(
                "select count(*) from shinsei_application where payment_status = 'paid'"
            ).fetchone()
        with psycopg.connect(databases["kessai"]) as db:
            kessai_rows = db.execute(
                "select"
                " (select count(*) from kessai_payment where status = 'succeeded'),"
                " (select count(*) from kessai_payment where status <> 'succeeded'),"
                " (select count(*) from kessai_notification where status <> 'delivered'),"
                " (select count(*) from kessai_notification)"
            ).fetchone()
        assert paid is not None
        assert kessai_rows is not None
        if paid[0] == PAYMENTS and kessai_rows[2] == 0:
            break
        assert time.monotonic() < deadline, (paid, kessai_rows)
        time.sleep(1)
    assert kessai_rows[0] == PAYMENTS
    assert kessai_rows[1] == 0
    assert kessai_rows[3] >= PAYMENTS
