"""Procedure management on the staff listener, for the administrator role:
departments and procedures of the administrator's own agency."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from madoguchi.platform.audit.services import audit_record
from madoguchi.shinsei.applications.views_staff import staff_login_required
from madoguchi.shinsei.staff.models import StaffAccount

from .models import Department, Procedure
from .questions import QUESTION_TYPES, QuestionError
from .services import procedure_save


def administrator_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        staff: StaffAccount = request.account  # type: ignore[attr-defined]
        if not staff.is_administrator:
            return render(request, "shinsei/staff/forbidden.html", {"account": staff}, status=403)
        return view(request, *args, **kwargs)

    return staff_login_required(wrapped)


class ProcedureForm(forms.ModelForm[Procedure]):
    questions = forms.CharField(
        label="質問（JSON）",
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false", "class": "code"}),
        help_text="質問の一覧です。保存すると新しい版になり、受付済みの申請は元の版のまま残ります。",
    )

    class Meta:
        model = Procedure
        fields = [
            "department", "slug", "name", "description", "fee_kind", "fee_amount",
            "quantity_field", "payment_timing", "is_published", "published_from",
            "published_until", "purpose", "privacy_notice", "retention_years",
            "retention_action",
        ]  # fmt: skip
        # The staff pages are Japanese only: every field named here, none by
        # Django's English default from the model field's name.
        labels = {
            "department": "所管課",
            "slug": "URL名（半角英数字とハイフン）",
            "fee_kind": "手数料の種類",
            "fee_amount": "手数料（円）",
            "quantity_field": "通数の質問（name）",
            "payment_timing": "支払時期",
        }
        help_texts = {
            "quantity_field": "手数料が1通ごとのとき、通数を答える数値の質問の name です。",
        }
        widgets = {
            "published_from": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "published_until": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args: Any, staff: StaffAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = cast(forms.ModelChoiceField[Department], self.fields["department"])
        department.queryset = Department.objects.filter(agency_id=staff.department.agency_id)
        department.empty_label = "選択してください"
        if not self.is_bound:
            self.initial["questions"] = json.dumps(
                self.instance.form_fields or [], ensure_ascii=False, indent=2
            )

    def clean_questions(self) -> list[dict[str, Any]]:
        try:
            questions = json.loads(self.cleaned_data["questions"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"JSONの形式が正しくありません（{exc.lineno}行目）。"
            ) from exc
        from .questions import validate_questions

        try:
            return validate_questions(questions)
        except QuestionError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("fee_kind") == Procedure.FeeKind.PER_UNIT:
            names = {
                q.get("name") for q in data.get("questions", []) or [] if q.get("type") == "number"
            }
            if data.get("quantity_field") not in names:
                self.add_error(
                    "quantity_field", "数量の質問（数値の質問の name）を指定してください。"
                )
        if data.get("fee_kind") in (
            Procedure.FeeKind.FIXED,
            Procedure.FeeKind.PER_UNIT,
        ) and not data.get("fee_amount"):
            self.add_error("fee_amount", "手数料の金額を入力してください。")
        start, end = data.get("published_from"), data.get("published_until")
        if start and end and end <= start:
            self.add_error("published_until", "公開終了は公開開始より後にしてください。")
        return data


@never_cache
@administrator_required
def procedure_list(request: HttpRequest) -> HttpResponse:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    procedures = (
        Procedure.objects.filter(department__agency_id=staff.department.agency_id)
        .select_related("department")
        .prefetch_related("versions")
        .order_by("department_id", "id")
    )
    return render(
        request,
        "shinsei/staff/admin_procedures.html",
        {"account": staff, "procedures": procedures},
    )


@never_cache
@administrator_required
def procedure_edit(request: HttpRequest, procedure_id: int | None = None) -> HttpResponse:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    procedure = Procedure()
    if procedure_id is not None:
        found = Procedure.objects.filter(
            pk=procedure_id, department__agency_id=staff.department.agency_id
        ).first()
        if found is None:
            raise Http404("no such procedure in this agency")
        procedure = found
    form = ProcedureForm(request.POST or None, instance=procedure, staff=staff)
    if request.method == "POST" and form.is_valid():
        values = {f: form.cleaned_data[f] for f in ProcedureForm.Meta.fields}
        saved = procedure_save(
            procedure=procedure,
            values=values,
            questions=form.cleaned_data["questions"],
            actor=staff.account_key,
        )
        audit_record(
            actor=staff.account_key,
            event="procedure.save",
            request=request,
            resource=f"procedure:{saved.slug}",
        )
        return HttpResponseRedirect(reverse("staff:admin_procedures"))
    return render(
        request,
        "shinsei/staff/admin_procedure_edit.html",
        {
            "account": staff,
            "form": form,
            "procedure": procedure if procedure.pk else None,
            "versions": procedure.versions.order_by("-number") if procedure.pk else [],
            "question_types": QUESTION_TYPES,
        },
        status=400 if form.errors else 200,
    )


class DepartmentForm(forms.ModelForm[Department]):
    class Meta:
        model = Department
        fields = ["code", "name"]
        labels = {"code": "コード（半角英数字とハイフン）"}


@never_cache
@administrator_required
def department_list(request: HttpRequest) -> HttpResponse:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        department = form.save(commit=False)
        department.agency_id = staff.department.agency_id
        department.save()
        audit_record(
            actor=staff.account_key,
            event="department.create",
            request=request,
            resource=f"department:{department.code}",
        )
        return HttpResponseRedirect(reverse("staff:admin_departments"))
    return render(
        request,
        "shinsei/staff/admin_departments.html",
        {
            "account": staff,
            "form": form,
            "departments": Department.objects.filter(agency_id=staff.department.agency_id),
            "agency": staff.department.agency,
        },
        status=400 if form.errors else 200,
    )
