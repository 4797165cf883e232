"""A PostgreSQL failover under a stream of requests, on the real processes.

``madoguchi up`` runs every listener, worker and scheduler against a cluster
of the test's own (never the shared server). Each surface is asked, over and
over, for a page that loads the session and the database. The server then
shuts down fast (every backend ended: "terminating connection due to
administrator command") and refuses connections for a few seconds, then
comes back. During the outage every answer is a styled "temporarily
unavailable" 503 (the API's JSON error shape on Kessai's API), never a bare
500 or a cut connection; the first request on every surface after the
return succeeds: the pooled connections the server ended are checked and
replaced before use, not handed to a request."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import _free_port_base
from tests.support.otp import totp_code, totp_step
from tests.support.servers import PostgresCluster, postgres_cluster

pytestmark = pytest.mark.e2e

OUTAGE_SECONDS = 5.0
# What each surface shows on its styled 503 page.
UNAVAILABLE_TITLE = "ただいま利用できません"


@pytest.fixture(scope="module")
def failover_system(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PostgresCluster, dict[str, Any]]]:
    with postgres_cluster() as cluster:
        for name in ("shinsei", "kessai"):
            cluster.create_database(name)
        var = tmp_path_factory.mktemp("failover")
        base = _free_port_base()
        log = open(var / "up.log", "wb")  # noqa: SIM115 - lives with the process
        env = {
            **os.environ,
            "SHINSEI_DATABASE_URL": cluster.url("shinsei"),
            "KESSAI_DATABASE_URL": cluster.url("kessai"),
        }
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "madoguchi.cli", "up", "--var-dir", str(var / "var"),
             "--port-base", str(base)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 480  # migrations and seeding on a busy machine
            while b"Press Ctrl-C" not in (var / "up.log").read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("madoguchi up did not start:\n" + (var / "up.log").read_text())
                time.sleep(0.5)
            demo = json.loads((var / "var" / "demo.json").read_text())
            yield cluster, {**demo, "var": var / "var"}
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()


def _token(page: httpx.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _post(client: httpx.Client, url: str, data: dict[str, str]) -> httpx.Response:
    token = _token(client.get(url))
    origin = str(client.base_url).rstrip("/")
    return client.post(
        url, data={**data, "csrfmiddlewaretoken": token}, headers={"Origin": origin,
        "Referer": origin + url},
    )  # fmt: skip


def citizen_with_a_draft(urls: dict[str, str]) -> tuple[httpx.Client, str]:
    """A citizen's browser with a draft in its session; the draft's step page."""
    client = httpx.Client(base_url=urls["shinsei_public"], timeout=30)
    response = _post(client, "/procedures/juminhyo/", {})
    assert response.status_code == 302, response.text[:500]
    return client, response.headers["location"]


def staff_logged_in(urls: dict[str, str], demo: dict[str, Any]) -> tuple[httpx.Client, str]:
    account = next(a for a in demo["accounts"]["shinsei_staff"] if a["login_id"] == "staff-shimin")
    client = httpx.Client(base_url=urls["shinsei_staff"], timeout=30)
    response = _post(
        client, "/login", {"login_id": account["login_id"], "password": account["password"]}
    )
    assert response.status_code == 302, response.text[:500]
    assert client.get("/").status_code == 200
    return client, "/"


def console_logged_in(urls: dict[str, str], demo: dict[str, Any]) -> tuple[httpx.Client, str]:
    """The console's administrator, through the mandatory TOTP set-up."""
    admin = demo["accounts"]["kessai_console"][0]
    client = httpx.Client(base_url=urls["kessai_console"], timeout=30)
    response = _post(
        client, "/login", {"login_id": admin["login_id"], "password": admin["password"]}
    )
    assert response.status_code == 302, response.text[:500]
    setup_url = response.headers["location"]
    page = client.get(setup_url)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret, page.text[:500]
    response = client.post(
        setup_url,
        data={"code": totp_code(secret.group(1), totp_step()),
              "csrfmiddlewaretoken": _token(page)},
        headers={"Origin": urls["kessai_console"], "Referer": urls["kessai_console"] + setup_url},
    )  # fmt: skip
    assert response.status_code in (200, 302), response.text[:500]
    home = "/"
    assert client.get(home).status_code == 200
    return client, home


def merchant_api(demo: dict[str, Any], urls: dict[str, str]) -> tuple[httpx.Client, str]:
    key = demo["merchants"]["mayor"]["api_key"]
    client = httpx.Client(
        base_url=urls["kessai_public"], timeout=30, headers={"Authorization": f"Bearer {key}"}
    )
    response = client.post(
        "/api/v1/payments",
        json={"reference": "F-" + uuid.uuid4().hex[:10], "amount": 300,
              "return_url": urls["shinsei_public"] + "/"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert response.status_code == 201, response.text[:500]
    client.headers["X-Test-Next-Url"] = response.json()["next_url"]
    return client, f"/api/v1/payments/{response.json()['id']}"


def payment_page(demo: dict[str, Any], urls: dict[str, str]) -> tuple[httpx.Client, str]:
    """A citizen's browser on Kessai's payment page (through its single-use link)."""
    api, _ = merchant_api(demo, urls)
    client = httpx.Client(base_url=urls["kessai_public"], timeout=30)
    response = client.get(api.headers.pop("X-Test-Next-Url"))
    assert response.status_code == 302, response.text[:500]
    page = response.headers["location"]
    assert client.get(page).status_code == 200
    return client, page


@dataclass
class Stream:
    """One surface asked for one page, over and over, from a thread."""

    name: str
    client: httpx.Client
    path: str
    json_api: bool = False
    # (when asked, status or the transport error, body)
    answers: list[tuple[float, int | str, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def ask(self) -> tuple[int | str, str]:
        try:
            response = self.client.get(self.path)
        except httpx.TransportError as exc:
            return type(exc).__name__, ""
        return response.status_code, response.text

    def run(self) -> None:
        while not self.stop.is_set():
            asked_at = time.monotonic()
            status, body = self.ask()
            self.answers.append((asked_at, status, body))
            time.sleep(0.2)


def styled_unavailable(stream: Stream, body: str) -> bool:
    if stream.json_api:
        try:
            return bool(json.loads(body)["code"] == "service_unavailable")
        except (ValueError, KeyError):
            return False
    return UNAVAILABLE_TITLE in body and "<html" in body


def failover(cluster: PostgresCluster) -> tuple[float, float]:
    """Every backend ended, connections refused for a while, then back."""
    down_at = time.monotonic()
    cluster.stop()
    time.sleep(OUTAGE_SECONDS)
    cluster.start()
    return down_at, time.monotonic()


def test_every_surface_answers_through_a_failover(
    failover_system: tuple[PostgresCluster, dict[str, Any]],
) -> None:
    cluster, demo = failover_system
    urls = demo["urls"]
    makers: list[tuple[str, Callable[[], tuple[httpx.Client, str]], bool]] = [
        ("shinsei_public", lambda: citizen_with_a_draft(urls), False),
        ("shinsei_staff", lambda: staff_logged_in(urls, demo), False),
        ("kessai_api", lambda: merchant_api(demo, urls), True),
        ("kessai_payment_page", lambda: payment_page(demo, urls), False),
        ("kessai_console", lambda: console_logged_in(urls, demo), False),
    ]
    streams = []
    for name, make, json_api in makers:
        client, path = make()
        streams.append(Stream(name, client, path, json_api))

    # A failover while nobody asks: each pool still holds the connections the
    # server ended. The first request on each surface afterwards succeeds.
    failover(cluster)
    first_after = {stream.name: stream.ask() for stream in streams}
    assert {name: status for name, (status, _) in first_after.items()} == {
        name: 200 for name, _, _ in makers
    }, {name: body[:300] for name, (_, body) in first_after.items()}

    # A failover under a stream of requests on every surface.
    threads = [threading.Thread(target=stream.run) for stream in streams]
    for thread in threads:
        thread.start()
    time.sleep(2)
    down_at, up_at = failover(cluster)
    # A request asked during the outage may wait for a connection (up to the
    # pool's timeout): go on until each surface has answered two asked after.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(
        sum(at >= up_at for at, _, _ in stream.answers) < 2 for stream in streams
    ):
        time.sleep(0.5)
    for stream in streams:
        stream.stop.set()
    for thread in threads:
        thread.join(timeout=60)

    for stream in streams:
        during = [(at, status, body) for at, status, body in stream.answers if at >= down_at]
        assert during, f"{stream.name}: no answer during or after the outage"
        wrong = [
            (round(at - down_at, 1), status, body[:200])
            for at, status, body in during
            if status != 200 and not (status == 503 and styled_unavailable(stream, body))
        ]
        assert not wrong, f"{stream.name}: {wrong}"
        after = [status for at, status, _ in stream.answers if at >= up_at]
        assert after, f"{stream.name}: no request after the return"
        assert all(status == 200 for status in after), (stream.name, after)
