"""Procedure management by an administrator: agency → department →
procedure, the question definitions, fee rules and versions."""

import json
from typing import Any

import pytest
from django.test import Client

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.shinsei.procedures.models import Department, FormVersion, Procedure
from madoguchi.shinsei.procedures.questions import QuestionError, validate_questions
from tests.support.staff import login

QUESTIONS = [
    {"name": "name", "label": "氏名", "type": "text", "step": "申請者"},
    {"name": "dogs", "label": "頭数", "type": "number", "min": 1, "max": 5, "step": "犬"},
]


def _form(department: Department, **overrides: Any) -> dict[str, Any]:
    return {
        "department": department.pk,
        "slug": "inu-touroku",
        "name": "犬の登録申請",
        "description": "",
        "fee_kind": "per_unit",
        "fee_amount": "3000",
        "quantity_field": "dogs",
        "payment_timing": "after_acceptance",
        "is_published": "on",
        "published_from": "",
        "published_until": "",
        "questions": json.dumps(QUESTIONS, ensure_ascii=False),
        "purpose": "犬の登録と狂犬病予防注射の管理のため",
        "privacy_notice": "",
        "retention_years": "5",
        "retention_action": "delete",
        **overrides,
    }


def test_administrator_adds_a_department_and_a_procedure_then_a_new_version(
    demo: dict[str, Any], citizen: Client
) -> None:
    admin = login(demo, "admin-mayor")
    response = admin.post("/admin/departments/", {"code": "seikatsu-eisei", "name": "生活衛生課"})
    assert response.status_code == 302
    department = Department.objects.get(code="seikatsu-eisei")
    assert department.agency.code == "mayor"  # always the administrator's agency

    assert admin.post("/admin/procedures/new", _form(department)).status_code == 302
    procedure = Procedure.objects.get(slug="inu-touroku")
    assert (procedure.fee_kind, procedure.fee_amount, procedure.department) == (
        "per_unit",
        3000,
        department,
    )
    assert list(procedure.versions.values_list("number", flat=True)) == [1]
    assert AuditRecord.objects.filter(event="procedure.save").count() == 1

    # A citizen files under version 1 ...
    from tests.support.journey import submit_application

    application, _ = submit_application(citizen, "inu-touroku", {"name": "犬山", "dogs": "2"})
    assert application.fee_amount == 6000
    # ... then the administrator adds a question: version 2.
    changed = [*QUESTIONS, {"name": "breed", "label": "犬種", "type": "text", "required": False}]
    edit = _form(department, questions=json.dumps(changed, ensure_ascii=False))
    assert admin.post(f"/admin/procedures/{procedure.pk}/", edit).status_code == 302
    assert list(procedure.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    application.refresh_from_db()
    assert application.form_version == FormVersion.objects.get(procedure=procedure, number=1)
    assert [q["name"] for q in application.questions] == ["name", "dogs"]
    # Saving without changing the questions makes no new version.
    admin.post(f"/admin/procedures/{procedure.pk}/", edit)
    assert procedure.versions.count() == 2


def test_invalid_definitions_are_refused_in_japanese(demo: dict[str, Any]) -> None:
    admin = login(demo, "admin-mayor")
    department = Department.objects.get(code="shimin")
    cases = [
        ("[", "JSONの形式が正しくありません"),
        (json.dumps([{"name": "a", "label": "A", "type": "colour"}]), "type「colour」は使えません"),
        (json.dumps([{"name": "a", "label": "A", "type": "radio"}]), "choices を指定してください"),
    ]
    for questions, message in cases:
        response = admin.post(
            "/admin/procedures/new", _form(department, questions=questions, fee_kind="none")
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    wrong_quantity = admin.post("/admin/procedures/new", _form(department, quantity_field="x"))
    assert "数量の質問" in wrong_quantity.content.decode()
    assert not Procedure.objects.filter(slug="inu-touroku").exists()


def test_an_administrator_cannot_reach_another_agencys_procedure(demo: dict[str, Any]) -> None:
    admin = login(demo, "admin-mayor")
    farm = Procedure.objects.get(slug="kousaku-shomei")
    assert admin.get(f"/admin/procedures/{farm.pk}/").status_code == 404
    other_department = farm.department
    response = admin.post("/admin/procedures/new", _form(other_department))
    assert response.status_code == 400  # not a choice for this administrator
    assert not Procedure.objects.filter(slug="inu-touroku").exists()


def test_conditions_must_refer_to_an_earlier_step() -> None:
    questions: list[dict[str, Any]] = [
        {"name": "a", "label": "A", "type": "radio", "choices": ["x", "y"], "step": "1"},
        {"name": "b", "label": "B", "type": "text", "show_if": {"question": "a", "equals": "x"}},
    ]
    with pytest.raises(QuestionError, match="前のステップの質問"):
        validate_questions(questions)
    questions[1]["step"] = "2"
    assert validate_questions(questions) == questions


@pytest.mark.parametrize("path", ["/admin/procedures/new", "/admin/departments/"])
def test_procedure_management_forms_are_labelled_in_japanese(
    demo: dict[str, Any], path: str
) -> None:
    import re

    admin = login(demo, "admin-mayor")
    page = admin.get(path).content.decode()
    labels = re.findall(r"<label for=\"[^\"]+\">([^<]*)", page)
    assert labels
    english = [label for label in labels if re.fullmatch(r"[A-Za-z _-]+", label.strip())]
    assert english == []
    assert "Select an option" not in page
    assert "---------" not in page
