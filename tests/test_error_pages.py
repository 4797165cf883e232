"""Styled 400/403/404/500/503 pages on every listener, in the citizen's language,
with a way back; never Django's bare English "Not Found" (issue 9, item 22)."""

from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from madoguchi.platform.network import AllowlistMiddleware
from madoguchi.shinsei.applications.language import COOKIE

SHINSEI = "madoguchi.shinsei.applications"
KESSAI = "madoguchi.kessai.payments"


def _assert_styled(response: Any, status: int, title: str, *, lang: str = "ja") -> str:
    assert response.status_code == status
    text = str(response.content.decode())
    assert f'<html lang="{lang}">' in text
    assert f'data-testid="error-title">{title}</h1>' in text
    assert "/static/platform/base.css" in text
    assert "Not Found" not in text
    assert "Server Error" not in text
    return text


@pytest.mark.parametrize(
    ("host", "link"),
    [
        ("shinsei.test", 'href="/"'),
        ("staff.shinsei.test", 'href="/"'),
        ("kessai.test", "「支払う」"),
        ("console.kessai.test", 'href="/"'),
    ],
)
def test_unknown_url_gets_the_services_own_404(db: None, host: str, link: str) -> None:
    text = _assert_styled(
        Client(HTTP_HOST=host).get("/no/such/page"), 404, "ページが見つかりません"
    )
    assert link in text  # a way back


def test_status_page_in_another_browser_in_english(demo: dict[str, Any]) -> None:
    stranger = Client(HTTP_HOST="shinsei.test")
    stranger.cookies[COOKIE] = "en"
    text = _assert_styled(
        stranger.get("/applications/100000000001/"), 404, "Page not found", lang="en"
    )
    assert 'href="/inquiry"' in text
    assert "Check an application with its reference number and password" in text


def test_payment_page_in_another_browser_follows_the_language(demo: dict[str, Any]) -> None:
    stranger = Client(HTTP_HOST="kessai.test")
    _assert_styled(stranger.get("/pay/pay_0000/"), 404, "ページが見つかりません")
    _assert_styled(stranger.get("/pay/pay_0000/?lang=en"), 404, "Page not found", lang="en")


def test_api_keeps_its_own_error_shape(db: None) -> None:
    response = Client(HTTP_HOST="kessai.test").get("/api/no/such")
    assert response.status_code == 404
    assert "error-title" not in response.content.decode()


def test_stale_form_token_gets_a_styled_403(demo: dict[str, Any]) -> None:
    citizen = Client(HTTP_HOST="shinsei.test", enforce_csrf_checks=True)
    text = _assert_styled(
        citizen.post("/inquiry", {"reference": "1", "password": "x"}),
        403,
        "このページは表示できません",
    )
    assert "開き直して" in text


@pytest.mark.parametrize(
    ("host", "path", "module", "title", "lang"),
    [
        ("shinsei.test", "/", f"{SHINSEI}.views_public", "An error occurred", "en"),
        ("kessai.test", "/pay/x/", f"{KESSAI}.views", "システムでエラーが発生しました", "ja"),
    ],
)
def test_server_error_page_is_styled(
    demo: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    path: str,
    module: str,
    title: str,
    lang: str,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    if host == "shinsei.test":
        monkeypatch.setattr(f"{module}.render", broken)
    else:
        monkeypatch.setattr(f"{module}._payment_for_session", broken)
    client = Client(HTTP_HOST=host, raise_request_exception=False)
    client.cookies[COOKIE] = lang
    _assert_styled(client.get(path), 500, title, lang=lang)


UNAVAILABLE_ERRORS = [
    pytest.param(
        lambda: OperationalError("terminating connection due to administrator command"),
        id="database-ended",
    ),
    pytest.param(lambda: InterfaceError("connection already closed"), id="database-closed"),
    pytest.param(lambda: RedisConnectionError("Connection refused"), id="cache"),
]


@pytest.mark.parametrize("error", UNAVAILABLE_ERRORS)
@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("shinsei.test", "/"),
        ("staff.shinsei.test", "/"),
        ("kessai.test", "/pay/pay_x/"),
        ("console.kessai.test", "/"),
    ],
)
def test_an_outage_met_in_a_middleware_gets_a_styled_503(
    db: None, monkeypatch: pytest.MonkeyPatch, host: str, path: str, error: Any
) -> None:
    """Raised before any view (as a dead pooled connection fails while the
    session loads): the surface's own "temporarily unavailable" page."""

    def away(self: object, request: object) -> None:
        raise error()

    monkeypatch.setattr(AllowlistMiddleware, "__call__", away)
    response = Client(HTTP_HOST=host, raise_request_exception=False).get(path)
    _assert_styled(response, 503, "ただいま利用できません")
    assert response["Retry-After"] == "30"


@pytest.mark.parametrize("error", UNAVAILABLE_ERRORS)
def test_an_outage_met_in_a_middleware_gets_the_apis_json_503(
    db: None, monkeypatch: pytest.MonkeyPatch, error: Any
) -> None:
    def away(self: object, request: object) -> None:
        raise error()

    monkeypatch.setattr(AllowlistMiddleware, "__call__", away)
    response = Client(HTTP_HOST="kessai.test", raise_request_exception=False).get(
        "/api/v1/payments/pay_x"
    )
    assert response.status_code == 503
    assert response.json() == {
        "code": "service_unavailable",
        "message": "The service is briefly unavailable; retry shortly.",
        "fields": {},
    }
    assert response["Retry-After"] == "30"


def test_english_pages_say_temporarily_unavailable(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def away(self: object, request: object) -> None:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(AllowlistMiddleware, "__call__", away)
    client = Client(HTTP_HOST="shinsei.test", raise_request_exception=False)
    client.cookies[COOKIE] = "en"
    _assert_styled(client.get("/"), 503, "Temporarily unavailable", lang="en")
