"""Whatever a person types into the staff and console filters (extreme dates,
malformed dates and months, odd characters, cursors) gets a page or a clear
message, never a server error. Hypothesis looks for the inputs."""

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import console_client, staff_client

EXTREME = [
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "1900-01-01",
    "9999-12",
    "0000-01",
    "0001-01",
    "-1",
    "",
    "\x00",
    "２０２６－１２－０１",
    "2026/12/01",
    "12/31/9999",
]
values = st.one_of(st.sampled_from(EXTREME), st.text(max_size=30))

STAFF_FIELDS = ["q", "status", "payment_status", "procedure", "submitted_from", "submitted_to",
                "overdue", "page"]  # fmt: skip
CONSOLE_PAGES = {
    "/": ["reference", "payment_id", "date_from", "date_to", "date_basis", "status", "method",
          "merchant", "before"],
    "/dashboard": ["day", "merchant"],
    "/dashboard/month": ["month", "merchant"],
    "/exports/transactions.csv": ["reference", "date_from", "date_to", "date_basis", "encoding"],
    "/exports/daily.csv": ["date_from", "date_to", "encoding"],
    "/exports/monthly.csv": ["date_from", "date_to", "encoding"],
    "/audit": ["page", "actor", "event", "date_from", "date_to"],
}  # fmt: skip

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _get(client: Client, path: str, query: dict[str, str]) -> int:
    response = client.get(path, query)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return int(response.status_code)


@pytest.fixture
def staff(demo: dict[str, Any]) -> Client:
    return staff_client(demo, "shimin")


@pytest.fixture
def console(demo: dict[str, Any]) -> Client:
    return console_client(demo)


@pytest.mark.parametrize("path", ["/", "/export.csv"])
def test_staff_filters_never_fail(staff: Client, path: str) -> None:
    @FUZZ
    @given(st.dictionaries(st.sampled_from(STAFF_FIELDS), values, max_size=4))
    def check(query: dict[str, str]) -> None:
        assert _get(staff, path, query) < 500, query

    check()


@pytest.mark.parametrize("path", list(CONSOLE_PAGES))
def test_console_filters_never_fail(console: Client, path: str) -> None:
    @FUZZ
    @given(st.dictionaries(st.sampled_from(CONSOLE_PAGES[path]), values, max_size=4))
    def check(query: dict[str, str]) -> None:
        assert _get(console, path, query) < 500, query

    check()


@pytest.mark.parametrize(
    ("path", "field"), [(path, field) for path, fields in CONSOLE_PAGES.items() for field in fields]
)
def test_console_filters_take_a_nul(console: Client, path: str, field: str) -> None:
    """A NUL cannot reach PostgreSQL as a parameter (it was a 500 on /audit)."""
    assert _get(console, path, {field: "a\x00b"}) < 500


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/", {"submitted_from": "9999-12-31", "submitted_to": "9999-12-31"}),
        ("/", {"submitted_from": "0001-01-01", "submitted_to": "0001-01-01"}),
        ("/export.csv", {"submitted_to": "9999-12-31"}),
    ],
)
def test_staff_extreme_dates_get_a_clear_message(
    staff: Client, path: str, query: dict[str, str]
) -> None:
    response = staff.get(path, query)
    assert response.status_code in (200, 400)
    if path == "/":
        assert "日付は" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/", {"date_from": "9999-12-31", "date_to": "9999-12-31"}),
        ("/", {"date_from": "0001-01-01", "date_basis": "paid"}),
        ("/dashboard", {"day": "9999-12-31"}),
        ("/dashboard", {"day": "0001-01-01"}),
        ("/dashboard/month", {"month": "9999-12"}),
        ("/dashboard/month", {"month": "0001-01"}),
        ("/exports/daily.csv", {"date_from": "0001-01-01", "date_to": "9999-12-31"}),
        ("/exports/monthly.csv", {"date_to": "9999-12-31"}),
    ],
)
def test_console_extreme_dates_never_fail(
    console: Client, path: str, query: dict[str, str]
) -> None:
    assert _get(console, path, query) < 500


def test_console_month_out_of_range_is_explained(console: Client) -> None:
    text = console.get("/dashboard/month", {"month": "9999-12"}).content.decode()
    assert "月は「2026-12」の形で" in text


def test_console_day_out_of_range_is_explained(console: Client) -> None:
    text = console.get("/dashboard", {"day": "0001-01-01"}).content.decode()
    assert "日付は2000-01-01から2099-12-31までの間で入力してください。" in text


@pytest.mark.parametrize("birth_date", ["9999-12-31", "0001-01-01"])
def test_extreme_dates_typed_by_a_citizen_never_fail(
    demo: dict[str, Any], citizen: Client, staff: Client, birth_date: str
) -> None:
    from tests.support.journey import ANSWERS, submit_application

    application, _ = submit_application(citizen, answers={**ANSWERS, "birth_date": birth_date})
    assert citizen.get(f"/applications/{application.reference}/").status_code == 200
    assert staff.get(f"/applications/{application.reference}/").status_code == 200
    assert staff.get("/export.csv").status_code == 200
