"""One JSON line per request and per task, and one request id followed from
Shinsei to Kessai and back (issue #11 item 1); no card or personal data in
those lines."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client

from madoguchi.platform.logs import logging_config, request_id_from
from tests.conftest import staff_client
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application

pytestmark = pytest.mark.django_db

PAN = "5555555555554444"
CVC = "7391"
NAME = "雪ノ下 紫苑"


@contextmanager
def json_lines() -> Iterator[list[dict[str, Any]]]:
    """What the production formatter writes, parsed back, line by line."""
    config = dict(logging_config(service="-", surface="-", fmt="json", level="INFO"))
    spec = dict(config["formatters"]["structured"])
    formatter = spec.pop("()")(**spec)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        text = stream.getvalue()
        lines.extend(json.loads(line) for line in text.splitlines())


def test_one_request_id_in_both_services_logs_for_one_payment(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    from tests.support.journey import ANSWERS

    staff = staff_client(demo, "shimin")
    payer = Client(HTTP_HOST="kessai.test", HTTP_X_REQUEST_ID="pay-0001")
    with json_lines() as lines:
        application, _ = submit_application(citizen, answers={**ANSWERS, "name": NAME})
        staff.defaults["HTTP_X_REQUEST_ID"] = "accept-0001"
        accept(staff, application)
        run_tasks()
        path = open_payment_page(citizen, payer, application)
        response = pay_by_card(payer, path, PAN, cvc=CVC)
        assert response["X-Request-ID"] == "pay-0001"
        run_tasks()

    def lines_of(request_id: str) -> list[tuple[str, str, str]]:
        return [
            (line["service"], line["event"], line.get("route") or line.get("task", ""))
            for line in lines
            if line.get("request_id") == request_id
        ]

    # Acceptance on Shinsei's staff listener; the task creating the payment;
    # Kessai's API answering it.
    accepted = lines_of("accept-0001")
    assert ("shinsei", "request", "applications/<str:reference>/accept") in accepted
    assert ("kessai", "request", "api/v1/payments") in accepted
    # The card payment on Kessai, and its notification arriving at Shinsei.
    paid = lines_of("pay-0001")
    assert ("kessai", "request", "pay/<str:public_id>/card") in paid
    assert ("shinsei", "request", "kessai/notifications/<slug:agency_code>") in paid
    accept_line = next(line for line in lines if line.get("request_id") == "accept-0001")
    kind, number = accept_line["account_id"].split(":")
    assert kind == "staff"
    assert number.isdigit()
    for line in lines:
        assert {"time", "level", "service", "surface", "request_id"} <= set(line), line
    everything = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert PAN not in everything
    assert CVC not in everything
    assert NAME not in everything
    assert "staff-shimin" not in everything  # account ids, never login names


def test_request_id_taken_only_when_it_is_a_plain_token() -> None:
    assert request_id_from("abc-123_X.y:z") == "abc-123_X.y:z"
    made = request_id_from('evil"\n{"level":"error"}')
    assert len(made) == 32
    assert made.isalnum()
    assert request_id_from(None) != request_id_from(None)


def test_every_response_carries_its_request_id() -> None:
    response = Client(HTTP_HOST="shinsei.test").get("/")
    assert len(response["X-Request-ID"]) == 32
