"""Locust users for scripts/loadtest.py (run through it, not by hand).

The runner passes what the users need in the environment: the listeners'
URLs, an agency's API key and a staff account (from the seeded demo data).
"""

import json
import os
import re
import time
import uuid
from typing import Any

from gevent.lock import Semaphore
from locust import FastHttpUser, HttpUser, between, events, task

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
_STAFF_COOKIES: dict[str, str] = {}
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


def _csrf(text: str) -> str:
    found = CSRF.search(text)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _flow_done(started: float, exception: Exception | None) -> None:
    events.request.fire(
        request_type="FLOW",
        name="paid application (決済済 on Shinsei)",
        response_time=(time.monotonic() - started) * 1000,
        response_length=0,
        exception=exception,
        context={},
    )


class FullFlow(HttpUser):
    """Scenario (b): a citizen submits, staff accept, the worker requests the
    payment, the citizen pays by card, Kessai notifies; counted when
    Shinsei's status page shows 決済済."""

    wait_time = between(0, 0)
    host = CONFIG.get("shinsei_public", "http://127.0.0.1")

    def on_start(self) -> None:
        # One staff login per Locust process, shared by its users: a login
        # costs an Argon2id check (by design slow), which is not what this
        # scenario measures, and one officer works many applications.
        with _STAFF_LOGIN:
            if not _STAFF_COOKIES:
                _STAFF_COOKIES.update(self._staff_login())
        for name, value in _STAFF_COOKIES.items():
            self.client.cookies.set(name, value)

    def _staff_login(self) -> dict[str, str]:
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
        return {
            name: value
            for name, value in self.client.cookies.items()
            if name.startswith("shinsei_staff_") and value
        }

    def _wait_for(self, url: str, marker: str, name: str) -> str:
        deadline = time.monotonic() + FLOW_TIMEOUT
        while time.monotonic() < deadline:
            text = self.client.get(url, name=name).text
            if marker in text:
                return text
            time.sleep(0.2)
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
        start = self.client.get(f"{base}/procedures/{slug}/", name="procedure page")
        response = self.client.post(
            f"{base}/procedures/{slug}/",
            data={"csrfmiddlewaretoken": _csrf(start.text)},
            name="start",
        )
        for _ in range(10):
            if "/steps/" not in response.url:
                break
            response = self.client.post(
                response.url,
                data={**ANSWERS, "csrfmiddlewaretoken": _csrf(response.text)},
                name="answer a step",
            )
        response = self.client.post(
            f"{base}/procedures/{slug}/check",
            data={"csrfmiddlewaretoken": _csrf(response.text)},
            name="submit",
        )
        found = REFERENCE.search(response.text)
        if not found:
            raise RuntimeError(f"not submitted: {response.url}")
        reference = found.group(1)
        staff = CONFIG["staff_url"]
        detail = self.client.get(f"{staff}/applications/{reference}/", name="staff detail")
        accepted = self.client.post(
            f"{staff}/applications/{reference}/accept",
            data={"csrfmiddlewaretoken": _csrf(detail.text)},
            name="accept",
        )
        if accepted.status_code != 200:
            raise RuntimeError(f"accept answered {accepted.status_code}")
        status_url = f"{base}/applications/{reference}/"
        text = self._wait_for(
            status_url, f"/applications/{reference}/pay", "status (until payable)"
        )
        page = self.client.post(
            f"{base}/applications/{reference}/pay",
            data={"csrfmiddlewaretoken": _csrf(text)},
            name="pay (to Kessai's page)",
        )
        if "/pay/" not in page.url:
            raise RuntimeError(f"not on the payment page: {page.url}")
        paid = self.client.post(
            page.url.split("?")[0].rstrip("/") + "/card",
            data={**CARD, "security_code": "123", "csrfmiddlewaretoken": _csrf(page.text)},
            name="pay by card",
        )
        if "/complete" not in paid.url:
            raise RuntimeError(f"card payment did not complete: {paid.url}")
        self._wait_for(status_url, PAID_MARKER, "status (until 決済済)")
