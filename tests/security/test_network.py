"""Office terminals only (seed 2(6)ア(エ)): the staff and console listeners
answer only the configured networks, and their URLs do not exist publicly."""

from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from madoguchi.platform.network import address_allowed, client_address
from madoguchi.platform.sessions.models import Session

pytestmark = pytest.mark.django_db

OFFICE = {"shinsei_staff": ["10.20.0.0/16"], "kessai_console": ["10.30.0.0/24", "2001:db8::/32"]}


@override_settings(MADOGUCHI_ALLOWED_NETWORKS=OFFICE)
@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("staff.shinsei.test", "/login"),
        ("staff.shinsei.test", "/"),
        ("staff.shinsei.test", "/healthz"),
        ("console.kessai.test", "/login"),
        ("console.kessai.test", "/"),
    ],
)
def test_a_request_from_outside_the_allowlist_gets_403(host: str, path: str) -> None:
    client = Client(HTTP_HOST=host, REMOTE_ADDR="203.0.113.7")

    response = client.post(path, {"login_id": "x", "password": "y"})

    assert response.status_code == 403
    assert "庁内の端末" in response.content.decode()
    # Refused before any view or session ran: nothing was created.
    assert Session.objects.count() == 0
    assert "csrftoken" not in response.cookies


@override_settings(MADOGUCHI_ALLOWED_NETWORKS=OFFICE)
def test_office_addresses_are_let_through(demo: Any) -> None:
    assert (
        Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="10.20.5.9").get("/login").status_code
        == 200
    )
    assert (
        Client(HTTP_HOST="console.kessai.test", REMOTE_ADDR="10.30.0.200").get("/login").status_code
        == 200
    )
    assert (
        Client(HTTP_HOST="console.kessai.test", REMOTE_ADDR="2001:db8::5").get("/login").status_code
        == 200
    )
    # Each listener has its own ranges.
    assert (
        Client(HTTP_HOST="console.kessai.test", REMOTE_ADDR="10.20.5.9").get("/login").status_code
        == 403
    )


@override_settings(MADOGUCHI_ALLOWED_NETWORKS=OFFICE)
def test_public_listeners_are_not_restricted(demo: Any) -> None:
    assert Client(HTTP_HOST="shinsei.test", REMOTE_ADDR="203.0.113.7").get("/").status_code == 200
    assert (
        Client(HTTP_HOST="kessai.test", REMOTE_ADDR="203.0.113.7").get("/healthz").status_code
        == 200
    )


@override_settings(
    MADOGUCHI_ALLOWED_NETWORKS=OFFICE, MADOGUCHI_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR"
)
def test_behind_the_proxy_the_address_it_saw_counts_not_one_the_client_wrote() -> None:
    # The client forges an office address in front; the proxy appends the real one.
    forged = Client(
        HTTP_HOST="staff.shinsei.test",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="10.20.0.1, 198.51.100.4",
    )
    assert forged.get("/login").status_code == 403
    real = Client(
        HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="10.20.0.1"
    )
    assert real.get("/login").status_code == 200


def test_address_matching() -> None:
    assert address_allowed("::ffff:10.20.1.1", ["10.20.0.0/16"])
    assert not address_allowed("not-an-address", ["0.0.0.0/0"])
    assert not address_allowed("10.21.0.1", ["10.20.0.0/16"])


def test_client_address_defaults_to_remote_addr(rf: Any) -> None:
    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.20.0.1")
    assert client_address(request) == "192.0.2.1"


@pytest.mark.parametrize(
    ("urlconf", "path"),
    [
        ("madoguchi.shinsei.urls_public", "/login"),
        ("madoguchi.shinsei.urls_public", "/applications/123456789012/accept"),
        ("madoguchi.shinsei.urls_public", "/password"),
        ("madoguchi.kessai.urls_public", "/login"),
        ("madoguchi.kessai.urls_public", "/login/totp"),
    ],
)
def test_staff_and_console_urls_do_not_exist_on_public_listeners(urlconf: str, path: str) -> None:
    with pytest.raises(Resolver404):
        resolve(path, urlconf=urlconf)


def test_staff_login_is_404_on_the_public_hosts(demo: Any) -> None:
    assert Client(HTTP_HOST="shinsei.test").get("/login").status_code == 404
    assert Client(HTTP_HOST="kessai.test").get("/login").status_code == 404
    assert Client(HTTP_HOST="kessai.test").get("/password").status_code == 404
