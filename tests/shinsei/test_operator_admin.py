"""Django's admin on the staff listener: the agency's administrators only,
read-only, their agency only, and every look at an application audited."""

from typing import Any

import pytest
from django.test import Client

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import login, staff_client
from tests.support.journey import submit_application

pytestmark = pytest.mark.django_db


def _admin(demo: dict[str, Any]) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "admin-mayor")
    login(client, "admin-mayor", account["password"])
    return client


def test_looking_at_an_application_is_audited(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    client = _admin(demo)
    listing = client.get("/ops/shinsei_applications/application/")
    assert listing.status_code == 200
    assert application.reference in listing.content.decode()
    assert not AuditRecord.objects.filter(event="application.view").exists()

    page = client.get(f"/ops/shinsei_applications/application/{application.pk}/change/")

    assert page.status_code == 200
    assert "藤沢" in page.content.decode()  # the answers, read-only
    record = AuditRecord.objects.get(event="application.view")
    admin = StaffAccount.objects.get(login_id="admin-mayor")
    assert (record.actor, record.resource) == (
        admin.account_key,
        f"application:{application.reference}",
    )


def test_another_agencys_applications_do_not_exist_for_the_admin(
    demo: dict[str, Any], citizen: Client
) -> None:
    application, _ = submit_application(citizen, "kousaku-shomei", _farmland_answers())
    client = _admin(demo)

    page = client.get(f"/ops/shinsei_applications/application/{application.pk}/change/")

    assert page.status_code == 302  # "no such object": back to the index
    assert (
        application.reference
        not in client.get("/ops/shinsei_applications/application/").content.decode()
    )
    assert not AuditRecord.objects.filter(event="application.view").exists()


def test_department_staff_are_refused(demo: dict[str, Any]) -> None:
    assert staff_client(demo, "shimin").get("/ops/").status_code == 403


def test_the_citizens_listener_has_no_admin(demo: dict[str, Any]) -> None:
    assert Client(HTTP_HOST="shinsei.test").get("/ops/").status_code == 404


def _farmland_answers() -> dict[str, Any]:
    from tests.support.journey import ANSWERS

    return {**ANSWERS, "farmland": "藤沢市大庭1番"}


def test_nothing_is_changed_through_it(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    client = _admin(demo)

    client.post(
        f"/ops/shinsei_applications/application/{application.pk}/change/",
        {"status": "accepted"},
    )

    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_every_admin_model_refuses_lookups_it_does_not_declare(demo: dict[str, Any]) -> None:
    from madoguchi.shinsei.applications.admin import site
    from tests.support.admin_lookups import assert_only_declared_lookups

    client = _admin(demo)
    # The report's probe: an account's password hash, a prefix at a time.
    probe = client.get(
        "/ops/shinsei_staff/staffaccount/",
        {"login_id": "reviewer-mayor", "password__startswith": "argon2"},
    )
    assert probe.status_code == 400
    assert "reviewer-mayor" not in probe.content.decode()
    walked = assert_only_declared_lookups(site, client)
    assert {"shinsei_applications.Application", "shinsei_staff.StaffAccount"} <= set(walked)
    refused = AuditRecord.objects.filter(event="admin.list", outcome="denied")
    assert {"login_id": ["reviewer-mayor"], "password__startswith": ["argon2"]} in [
        record.detail["query"] for record in refused
    ]


def test_the_department_filter_offers_only_the_agencys_own(demo: dict[str, Any]) -> None:
    from madoguchi.shinsei.procedures.models import Department

    client = _admin(demo)
    for url in ("/ops/shinsei_applications/application/", "/ops/shinsei_staff/staffaccount/"):
        page = client.get(url).content.decode()
        for department in Department.objects.select_related("agency"):
            shown = f"__id__exact={department.pk}" in page
            assert shown == (department.agency.code == "mayor"), (url, department.name)


def test_list_views_are_audited(demo: dict[str, Any]) -> None:
    client = _admin(demo)
    assert client.get("/ops/shinsei_applications/application/", {"status__exact": "submitted"})
    record = AuditRecord.objects.get(event="admin.list")
    admin = StaffAccount.objects.get(login_id="admin-mayor")
    assert (record.actor, record.resource, record.origin) == (
        admin.account_key,
        "shinsei_applications.application",
        "127.0.0.1",
    )
    assert record.detail == {"query": {"status__exact": ["submitted"]}}


def test_a_due_password_change_comes_before_the_admin(demo: dict[str, Any]) -> None:
    accounts = StaffAccount.objects.filter(login_id="admin-mayor")
    for url in ("/ops/", "/ops/shinsei_staff/staffaccount/"):
        accounts.update(must_change_password=False)
        client = _admin(demo)
        assert client.get(url).status_code == 200
        accounts.update(must_change_password=True)  # (an administrator reset it)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].endswith("/password"), response["Location"]
