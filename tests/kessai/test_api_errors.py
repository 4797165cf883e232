"""Every answer of the merchant API, errors included, is the documented JSON
shape ``{"code", "message", "fields"}`` — also while the database is down,
for an unknown URL and for a method the URL does not take."""

import json
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from tests.kessai.test_api import BODY


def _json_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = json.loads(response.content)
    assert set(body) == {"code", "message", "fields"}
    return dict(body)


@pytest.fixture
def mayor_key(demo: dict[str, Any]) -> str:
    return str(demo["merchants"]["mayor"]["api_key"])


@pytest.fixture
def database_down() -> Any:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused: the database is not accepting connections")

    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=refuse):
        yield


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/payments"),
        ("post", "/api/v1/payments"),
        ("get", "/api/v1/payments/pay_x"),
        ("post", "/api/v1/payments/pay_x/cancel"),
    ],
)
def test_database_outage_answers_json_503(
    mayor_key: str, database_down: None, method: str, path: str
) -> None:
    client = Client(HTTP_HOST="kessai.test", raise_request_exception=False)
    headers = {"Authorization": f"Bearer {mayor_key}", "Idempotency-Key": "db-1"}
    if method == "post":
        response = client.post(
            path, json.dumps(BODY), content_type="application/json", headers=headers
        )
    else:
        response = client.get(path, headers=headers)
    assert response.status_code == 503
    assert _json_error(response)["code"] == "service_unavailable"
    assert response["Retry-After"] == "30"


def test_unknown_api_url_is_json_404(api_client: Client) -> None:
    response = api_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert _json_error(response)["code"] == "not_found"


def test_wrong_method_is_json_405(api_client: Client, mayor_key: str) -> None:
    response = api_client.delete(
        "/api/v1/payments", headers={"Authorization": f"Bearer {mayor_key}"}
    )
    assert response.status_code == 405
    assert _json_error(response)["code"] == "method_not_allowed"


def test_unexpected_error_is_json_500(mayor_key: str) -> None:
    client = Client(HTTP_HOST="kessai.test", raise_request_exception=False)
    with mock.patch("madoguchi.kessai.payments.api.payment_list", side_effect=RuntimeError("bug")):
        response = client.get("/api/v1/payments", headers={"Authorization": f"Bearer {mayor_key}"})
    assert response.status_code == 500
    assert _json_error(response)["code"] == "server_error"


def test_pages_outside_the_api_keep_their_html(db: None, payer: Client) -> None:
    response = payer.get("/pay/pay_unknown/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
