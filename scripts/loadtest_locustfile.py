"""Locust users for scripts/loadtest.py (run through it, not by hand).

The runner passes what the users need in the environment: the listeners'
URLs, an agency's API key and a staff account (from the seeded demo data).
"""

import json
import os
import re
import time
import uuid
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import urljoin

from gevent.lock import Semaphore
from locust import FastHttpUser, between, events, task

CONFIG: dict[str, Any] = json.loads(os.environ.get("LOADTEST_CONFIG", "{}"))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE = re.compile(r'data-testid="reference">(\d+)<')
ANSWERS = {
    "name": "藤沢 花子",
    "name_kana": "フジサワ ハナコ",
    "birth_date": "1990-04-01",
    "address__postal_code": "251-8601",
    "address__prefecture": "神奈川県",
    "address__line": "藤沢市朝日町1番地の1",
    "phone": "0466-25-1111",
    "email": "hanako@example.jp",
    "copies": "2",
    "purpose": "就職",
}
CARD = {"card_number": "4242424242424242", "exp_month": "12", "exp_year": "2031"}
PAID_MARKER = 'data-testid="payment-status">決済済<'
_STAFF_LOGIN = Semaphore()
_STAFF_COOKIES: list[Cookie] = []
FLOW_TIMEOUT = float(CONFIG.get("flow_timeout", 60))


class BareJson(FastHttpUser):
    """Baseline: a bare Django JSON view."""

    @task
    def bare_json(self) -> None:
        self.client.get("/json", name="bare json")


class BareInsert(FastHttpUser):
    """Baseline: a bare Django view doing one INSERT … RETURNING."""

    @task
    def bare_insert(self) -> None:
        self.client.post("/insert", name="bare insert")


class _Merchant(FastHttpUser):
    """An agency's system calling the merchant API."""

    abstract = True

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {CONFIG['api_key']}"}

    def _create(self, name: str = "create payment") -> str:
        body = {
            "reference": f"{uuid.uuid4().int % 10**12:012d}",
            "amount": 600,
            "return_url": "http://127.0.0.1/r",
        }
        with self.client.post(
            "/api/v1/payments",
            json=body,
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}")
                return ""
            return str(response.json()["id"])

    def _checkout(self, payment_id: str) -> None:
        with self.client.post(
            f"/api/v1/payments/{payment_id}/checkout",
            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())},
            name="create checkout",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}")

    def _get(self, payment_id: str) -> None:
        self.client.get(f"/api/v1/payments/{payment_id}", headers=self.auth, name="get payment")


class MerchantApi(_Merchant):
    """Scenario (a): the merchant API, as an agency's system calls it:
    create a payment, issue a checkout link, read the payment."""

    @task
    def create_checkout_get(self) -> None:
        payment_id = self._create()
        if payment_id:
            self._checkout(payment_id)
            self._get(payment_id)


# Each call of (a) alone, as the issue's own figure (``POST /api/v1/payments``
# with a fresh reference and key per request) and the floor are measured.


class CreatePaymentOnly(_Merchant):
    @task
    def create(self) -> None:
        self._create()


class _OnePayment(_Merchant):
    """Works on one payment of its own, made when the user starts."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.payment_id = self._create("setup: create payment")


class CreateCheckoutOnly(_OnePayment):
    """A fresh key each time: a payment may have several live links, each a
    new row."""

    @task
    def checkout(self) -> None:
        self._checkout(self.payment_id)


class GetPaymentOnly(_OnePayment):
    @task
    def get(self) -> None:
        self._get(self.payment_id)


@events.quitting.add_listener
def _write_stats(environment: Any, **kwargs: Any) -> None:
    """The runner reads the figures from here (LOADTEST_STATS)."""
    path = os.environ.get("LOADTEST_STATS")
    if not path:
        return
    rows = []
    for entry in [*environment.stats.entries.values(), environment.stats.total]:
        rows.append(
            {
                "name": entry.name,
                "count": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.50) or 0,
                "p95": entry.get_response_time_percentile(0.95) or 0,
                "p99": entry.get_response_time_percentile(0.99) or 0,
            }
        )
    with open(path, "w") as handle:
        json.dump(rows, handle)


def _csrf(text: str | None) -> str:
    found = CSRF.search(text or "")
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _redirect_target(url: str, response: Any, name: str) -> str:
    """Where a redirect answer points (the flow follows each hop itself)."""
    if response.status_code != 302 or response.headers is None:
        raise RuntimeError(f"{name}: {url} answered {response.status_code}")
    return urljoin(url, str(response.headers["Location"]))


def _flow_done(started: float, exception: Exception | None) -> None:
    events.request.fire(
        request_type="FLOW",
        name="paid application (決済済 on Shinsei)",
        response_time=(time.monotonic() - started) * 1000,
        response_length=0,
        exception=exception,
        context={},
    )


class FullFlow(FastHttpUser):
    """Scenario (b): a citizen submits, staff accept, the worker requests the
    payment, the citizen pays by card, Kessai notifies; counted when
    Shinsei's status page shows 決済済.

    FastHttpUser (geventhttpclient), not HttpUser (python-requests): the load
    generator shares the machine's cores with the servers, and requests costs
    several times the CPU per request. Redirects are followed here, one named
    request per hop, so the figures say which page each request was."""

    wait_time = between(0, 0)
    host = CONFIG.get("shinsei_public", "http://127.0.0.1")
    # A citizen reloads the status page now and then, not five times a second.
    poll_seconds = float(CONFIG.get("flow_poll", 1.0))

    def on_start(self) -> None:
        # One staff login per Locust process, shared by its users: a login
        # costs an Argon2id check (by design slow), which is not what this
        # scenario measures, and one officer works many applications.
        with _STAFF_LOGIN:
            if not _STAFF_COOKIES:
                _STAFF_COOKIES.extend(self._staff_login())
        for cookie in _STAFF_COOKIES:
            self.client.cookiejar.set_cookie(cookie)

    def _staff_login(self) -> list[Cookie]:
        staff = CONFIG["staff_url"]
        page = self.client.get(f"{staff}/login", name="staff login page")
        response = self.client.post(
            f"{staff}/login",
            data={
                "login_id": CONFIG["staff_login"],
                "password": CONFIG["staff_password"],
                "csrfmiddlewaretoken": _csrf(page.text),
            },
            name="staff login",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"staff login failed: {response.status_code}")
        return [c for c in self.client.cookiejar if c.name.startswith("shinsei_staff_") and c.value]

    def _get(self, url: str, name: str) -> Any:
        response = self.client.get(url, name=name, allow_redirects=False)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        return response

    def _post(self, url: str, data: dict[str, str], name: str) -> str:
        """POST a form; the answer must be a redirect, whose target is returned."""
        response = self.client.post(url, data=data, name=name, allow_redirects=False)
        return _redirect_target(url, response, name)

    def _wait_for(self, url: str, marker: str, name: str) -> str:
        deadline = time.monotonic() + FLOW_TIMEOUT
        while time.monotonic() < deadline:
            text: str = self._get(url, name).text
            if marker in text:
                return text
            time.sleep(self.poll_seconds)
        raise TimeoutError(f"{marker!r} did not appear on {url}")

    @task
    def flow(self) -> None:
        started = time.monotonic()
        try:
            self._one_flow()
        except Exception as exc:  # counted as a failed flow, then the next one
            _flow_done(started, exc)
            return
        _flow_done(started, None)

    def _one_flow(self) -> None:
        base = CONFIG["shinsei_public"]
        slug = CONFIG.get("procedure", "juminhyo")
        start = self._get(f"{base}/procedures/{slug}/", "procedure page")
        url = self._post(
            f"{base}/procedures/{slug}/", {"csrfmiddlewaretoken": _csrf(start.text)}, "start"
        )
        for _ in range(10):
            if "/steps/" not in url:
                break
            page = self._get(url, "step page")
            url = self._post(
                url, {**ANSWERS, "csrfmiddlewaretoken": _csrf(page.text)}, "answer a step"
            )
        check = self._get(url, "check page")
        url = self._post(url, {"csrfmiddlewaretoken": _csrf(check.text)}, "submit")
        found = REFERENCE.search(self._get(url, "submitted page").text)
        if not found:
            raise RuntimeError(f"not submitted: {url}")
        reference = found.group(1)
        staff = CONFIG["staff_url"]
        detail = self._get(f"{staff}/applications/{reference}/", "staff detail")
        url = self._post(
            f"{staff}/applications/{reference}/accept",
            {"csrfmiddlewaretoken": _csrf(detail.text)},
            "accept",
        )
        self._get(url, "staff detail (after accept)")
        status_url = f"{base}/applications/{reference}/"
        text = self._wait_for(
            status_url, f"/applications/{reference}/pay", "status (until payable)"
        )
        link = self._post(
            f"{base}/applications/{reference}/pay",
            {"csrfmiddlewaretoken": _csrf(text)},
            "pay (Shinsei asks Kessai for a link)",
        )
        url = self._redirect_of(link, "open the link (Kessai)")
        if "/pay/" not in url:
            raise RuntimeError(f"not on the payment page: {url}")
        page = self._get(url, "payment page (Kessai)")
        url = self._post(
            url.split("?")[0].rstrip("/") + "/card",
            {**CARD, "security_code": "123", "csrfmiddlewaretoken": _csrf(page.text)},
            "pay by card",
        )
        if "/complete" not in url:
            raise RuntimeError(f"card payment did not complete: {url}")
        self._get(url, "completion page (Kessai)")
        self._wait_for(status_url, PAID_MARKER, "status (until 決済済)")

    def _redirect_of(self, url: str, name: str) -> str:
        """GET a URL that must redirect; return where to."""
        response = self.client.get(url, name=name, allow_redirects=False)
        return _redirect_target(url, response, name)
