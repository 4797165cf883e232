"""Schemathesis against the merchant API's OpenAPI document: every operation,
200 generated examples each (valid and invalid), must answer without a 5xx
and with a response that conforms to the document."""

import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.merchants.services import api_key_issue

pytestmark = pytest.mark.fuzz

_django = WSGIHandler()


def kessai_public(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Kessai's public listener (the test process routes surfaces by host)."""
    environ["HTTP_HOST"] = "kessai.test"
    return _django(environ, start_response)


schema = schemathesis.openapi.from_dict(json.loads(Path("docs/openapi.json").read_text()))


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """As Django's test client does: a request must not close the connection
    that holds the test's transaction (PostgreSQL would lose it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(demo: dict[str, Any]) -> str:
    return api_key_issue(merchant=Merchant.objects.get(code="mayor")).raw_key


@schema.parametrize()
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_openapi_document(case: Any, api_key: str) -> None:
    # A fresh Idempotency-Key per generated request: with one key for all,
    # every POST after the first 201 would replay or conflict (409) and the
    # fuzzer would barely reach the code behind it.
    response = case.call(
        app=kessai_public,
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"fuzz-{uuid.uuid4()}"},
    )
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
