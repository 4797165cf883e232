"""Department scope: staff of department A are refused every staff URL of
department B's application; agency reviewers see their whole agency only."""

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.shinsei.applications.models import Application, ApplicationNote
from tests.conftest import staff_client
from tests.support.forms import ALL_TYPES, STEP1, STEP2, STEP3, receipt
from tests.support.journey import submit_application
from tests.support.staff import login


def _application_urls() -> list[str]:
    """Every staff URL pattern that names an application."""
    resolver = get_resolver("madoguchi.shinsei.urls_staff")
    patterns = []
    for namespace in resolver.url_patterns:
        for pattern in getattr(namespace, "url_patterns", []):
            assert isinstance(pattern, URLPattern)
            route = str(pattern.pattern)
            if "<str:reference>" in route:
                patterns.append(route)
    return patterns


def _file_application(citizen: Client) -> Application:
    citizen.post(f"/procedures/{ALL_TYPES}/")
    for step, data in ((1, STEP1), (2, STEP2), (3, STEP3), (4, {"receipt": receipt()})):
        assert citizen.post(f"/procedures/{ALL_TYPES}/steps/{step}", data).status_code == 302
    citizen.post(f"/procedures/{ALL_TYPES}/check")
    application = Application.objects.get(procedure__slug=ALL_TYPES)
    assert application.files.count() == 1
    return application


def test_every_staff_url_for_another_departments_application_is_refused(
    demo: dict[str, Any], citizen: Client
) -> None:
    # Given an application of 市民課 with a file, and a member of 市民税課
    application = _file_application(citizen)
    file_id = str(application.files.get().id)
    other = staff_client(demo, "shiminzei")
    routes = _application_urls()
    assert len(routes) == 8  # detail, accept, reject, return, complete, notes, files, hold
    # When they request every one of them, with GET and POST
    for route in routes:
        path = "/" + route.replace("<str:reference>", application.reference).replace(
            "<uuid:file_id>", file_id
        )
        for method in (other.get, other.post):
            response = method(path, {"reason": "x", "reject-reason": "x", "return-reason": "x",
                                     "body": "x", "amount": "1", "legal_hold": "x"})  # fmt: skip
            # Then every request is refused (the legal hold: administrators only)
            assert response.status_code in (403, 404, 405), (path, response.status_code)
    # and nothing happened to the application
    application.refresh_from_db()
    assert (application.status, application.legal_hold) == ("submitted", "")
    assert ApplicationNote.objects.count() == 0
    assert application.events.count() == 1
    assert not AuditRecord.objects.filter(event__startswith="application.").exists()
    # nor does it appear in their list or export
    assert application.reference not in other.get("/").content.decode()
    assert application.reference not in other.get("/export.csv").content.decode("utf-8-sig")
    assert other.get(f"/?q={application.reference}").context["page"].paginator.count == 0


def test_a_reviewer_sees_the_whole_agency_but_not_another_agency(
    demo: dict[str, Any], citizen: Client
) -> None:
    juminhyo, _ = submit_application(citizen)  # 市長: 市民課
    from tests.support.journey import ANSWERS

    farm, _ = submit_application(citizen, "kousaku-shomei", {**ANSWERS, "farmland": "大庭1"})
    reviewer = login(demo, "reviewer-mayor")  # 市長部局, seated in 市民課
    listed = reviewer.get("/").content.decode()
    assert juminhyo.reference in listed
    assert farm.reference not in listed  # 農業委員会 is another agency
    assert reviewer.get(f"/applications/{juminhyo.reference}/").status_code == 200
    assert reviewer.get(f"/applications/{farm.reference}/").status_code == 404
    # Another department of the same agency is in the reviewer's scope.
    from madoguchi.shinsei.procedures.models import Procedure

    shotoku = Procedure.objects.get(slug="shotoku-shomei")
    assert shotoku.department.code == "shiminzei"
    tax, _ = submit_application(citizen, "shotoku-shomei", {**ANSWERS, "fiscal_year": "令和7年度"})
    assert reviewer.get(f"/applications/{tax.reference}/").status_code == 200
    assert staff_client(demo, "shimin").get(f"/applications/{tax.reference}/").status_code == 404


@pytest.mark.parametrize("login_id", ["staff-shimin", "reviewer-mayor"])
def test_procedure_management_is_for_administrators_only(
    demo: dict[str, Any], login_id: str
) -> None:
    client = login(demo, login_id)
    for path in ("/admin/procedures/", "/admin/procedures/new", "/admin/departments/"):
        assert client.get(path).status_code == 403
        assert client.post(path, {"name": "x"}).status_code == 403
