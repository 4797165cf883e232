"""HTTP hardening (seed 2(6)イ, ASVS V3/V14): CSRF everywhere, a strict CSP,
HSTS and Secure cookies under TLS, no framing, no-store on personal data,
rate limits on the inquiry and the merchant API."""

import importlib
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from madoguchi.platform.throttle import TOO_MANY
from tests.conftest import console_client, staff_client
from tests.support.journey import open_payment_page, submit_application

pytestmark = pytest.mark.django_db

SURFACES = {
    "shinsei.test": "madoguchi.shinsei.urls_public",
    "staff.shinsei.test": "madoguchi.shinsei.urls_staff",
    "kessai.test": "madoguchi.kessai.urls_public",
    "console.kessai.test": "madoguchi.kessai.urls_console",
}
# Authenticated otherwise: the HMAC-signed notification receiver; the
# merchant API (bearer API key, no cookies); PayPay's webhook (its body is
# never trusted: it only makes Kessai look the payment up at PayPay); the Apple
# Pay demo sheet's post (demo mode only; the token itself is verified by its
# signature chain and must decrypt with Kessai's key, so a forged one fails).
# SBPS posts its result with sps_hashcode (verified) and posts the citizen's
# browser back from its own origin (nothing there is trusted: a GET follows).
CSRF_EXEMPT = {
    "shinsei:kessai_notification",
    "shinsei:sbps_pagecon",
    "shinsei:sbps_return",
    "api",
    "kessai:paypay_webhook",
    "kessai:applepay_demo",
}


def _callbacks(urlconf: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if "ninja" in type(p.urlconf_module).__module__ or ns.startswith("kessai_api"):
                    found.append(("api", None))
                    continue
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern):
                found.append((f"{namespace}:{p.name}", p.callback))

    walk(get_resolver(urlconf).url_patterns, "")
    return found


@pytest.mark.parametrize("urlconf", SURFACES.values())
def test_no_view_is_exempt_from_csrf_except_the_signed_and_bearer_ones(urlconf: str) -> None:
    exempt = {
        name
        for name, callback in _callbacks(urlconf)
        if callback is None or getattr(callback, "csrf_exempt", False)
    }
    assert exempt <= CSRF_EXEMPT


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("staff.shinsei.test", "/login"),
        ("console.kessai.test", "/login"),
        ("shinsei.test", "/inquiry"),
        ("shinsei.test", "/procedures/juminhyo/"),
    ],
)
def test_a_form_post_without_the_token_is_refused(demo: Any, host: str, path: str) -> None:
    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    assert client.post(path, {"login_id": "x", "password": "y"}).status_code == 403


PAGES = {
    "shinsei.test": "/",
    "staff.shinsei.test": "/login",
    "kessai.test": "/healthz",
    "console.kessai.test": "/login",
}


@pytest.mark.parametrize(("host", "path"), PAGES.items())
def test_every_listener_sends_a_strict_csp(demo: Any, host: str, path: str) -> None:
    response = Client(HTTP_HOST=host).get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_payment_page_cannot_be_framed_and_is_not_cached(
    demo: Any, citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    staff_client(demo, "shimin").post(f"/applications/{application.reference}/accept")
    run_tasks()
    pay_path = open_payment_page(citizen, payer, application)

    page = payer.get(pay_path.removeprefix("http://kessai.test"))

    assert page.status_code == 200
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert "no-store" in page["Cache-Control"]
    # The citizen's status page holds personal data: not stored either.
    status = citizen.get(f"/applications/{application.reference}/")
    assert "no-store" in status["Cache-Control"]


def test_staff_and_console_pages_are_not_cached(demo: Any, citizen: Client) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    for path in ("/", f"/applications/{application.reference}/", "/login", "/password"):
        assert "no-store" in staff.get(path)["Cache-Control"], path


def test_console_pages_are_not_cached(demo: Any) -> None:
    console = console_client(demo)
    assert "no-store" in console.get("/")["Cache-Control"]


def test_tls_settings_turn_on_hsts_secure_cookies_and_redirects(monkeypatch: Any) -> None:
    from madoguchi.platform import settings_base

    monkeypatch.setenv("MADOGUCHI_TLS", "1")
    try:
        tls = importlib.reload(settings_base)
        assert tls.SECURE_HSTS_SECONDS == 31536000
        assert tls.SESSION_COOKIE_SECURE is True
        assert tls.CSRF_COOKIE_SECURE is True
        assert tls.SECURE_SSL_REDIRECT is True
    finally:
        monkeypatch.delenv("MADOGUCHI_TLS")
        plain = importlib.reload(settings_base)
    assert plain.SECURE_HSTS_SECONDS == 0
    assert plain.SESSION_COOKIE_HTTPONLY is True
    assert plain.CSRF_COOKIE_HTTPONLY is True
    assert plain.SESSION_COOKIE_SAMESITE == "Lax"


@override_settings(
    SECURE_HSTS_SECONDS=31536000, SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True
)
def test_over_https_the_headers_and_cookie_flags_are_sent(demo: Any) -> None:
    client = Client(HTTP_HOST="staff.shinsei.test")
    entry = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-shimin")

    page = client.get("/login", secure=True)
    response = client.post("/login", entry, secure=True)

    assert page["Strict-Transport-Security"] == "max-age=31536000"
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] is True
    assert csrf["httponly"] is True


# --- rate limits ----------------------------------------------------------------


def test_the_inquiry_is_locked_after_ten_wrong_passwords_for_one_reference(
    demo: Any, citizen: Client
) -> None:
    application, password = submit_application(citizen)
    for n in range(10):
        # From ten different addresses: the reference itself is protected.
        stranger = Client(HTTP_HOST="shinsei.test", REMOTE_ADDR=f"198.51.100.{n}")
        assert (
            stranger.post("/inquiry", {"reference": application.reference, "password": "WRONG"})
        ).status_code == 400

    late = Client(HTTP_HOST="shinsei.test", REMOTE_ADDR="198.51.100.99")
    response = late.post("/inquiry", {"reference": application.reference, "password": password})

    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    assert "granted_applications" not in late.session


def test_the_inquiry_is_locked_for_an_address_trying_many_references(
    demo: Any, citizen: Client
) -> None:
    application, password = submit_application(citizen)
    prober = Client(HTTP_HOST="shinsei.test", REMOTE_ADDR="198.51.100.7")
    for n in range(10):
        prober.post("/inquiry", {"reference": f"{n:012d}", "password": "WRONG"})

    blocked = prober.post("/inquiry", {"reference": application.reference, "password": password})
    allowed = Client(HTTP_HOST="shinsei.test").post(
        "/inquiry", {"reference": application.reference, "password": password}
    )

    assert blocked.status_code == 429
    assert allowed.status_code == 302


@override_settings(MADOGUCHI_API_RATE_PER_MINUTE=3)
def test_the_merchant_api_is_rate_limited_per_key(demo: Any, api_client: Client) -> None:
    mayor: Any = {"HTTP_AUTHORIZATION": f"Bearer {demo['merchants']['mayor']['api_key']}"}
    other: Any = {"HTTP_AUTHORIZATION": f"Bearer {demo['merchants']['agri-committee']['api_key']}"}
    statuses = [api_client.get("/api/v1/payments/pay_none", **mayor).status_code for _ in range(4)]

    assert statuses == [404, 404, 404, 429]
    assert api_client.get("/api/v1/payments/pay_none", **mayor).json()["code"] == "http_error"
    # Another key has its own allowance.
    assert api_client.get("/api/v1/payments/pay_none", **other).status_code == 404
