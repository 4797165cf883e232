"""Staff forms: inbox filters and the decisions on an application."""

import re
from typing import Any, cast

from django import forms

from madoguchi.platform.forms import FilterDateField
from madoguchi.shinsei.procedures.models import Procedure

from .models import Application, RefundRequest
from .selectors import InboxFilter


class FilterForm(forms.Form):
    q = forms.CharField(label="整理番号", required=False, max_length=20)
    status = forms.ChoiceField(
        label="状態", required=False, choices=[("", "すべて"), *Application.Status.choices]
    )
    payment_status = forms.ChoiceField(
        label="決済状況",
        required=False,
        choices=[("", "すべて"), *Application.PaymentStatus.choices],
    )
    procedure = forms.TypedChoiceField(label="手続", required=False, coerce=int, empty_value=None)
    submitted_from = FilterDateField(
        label="申請日（から）", widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = FilterDateField(
        label="申請日（まで）", widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(label="支払期限超過のみ", required=False)

    def __init__(self, *args: Any, procedures: list[Procedure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["procedure"])
        field.choices = [("", "すべて"), *((p.pk, p.name) for p in procedures)]

    def filters(self) -> InboxFilter:
        if not self.is_valid():
            return InboxFilter(match_nothing=True)  # invalid filters match nothing
        data = self.cleaned_data
        return InboxFilter(
            status=data["status"],
            payment_status=data["payment_status"],
            procedure_id=data["procedure"],
            submitted_from=data["submitted_from"],
            submitted_to=data["submitted_to"],
            reference=re.sub(r"[\s-]", "", data["q"]),
            overdue=data["overdue"],
        )


class AcceptForm(forms.Form):
    amount = forms.IntegerField(
        label="手数料（円）",
        required=False,
        min_value=0,
        max_value=10_000_000,
        error_messages={"invalid": "手数料は半角数字で入力してください。"},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "理由を入力してください。"},
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="内部メモ",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "メモを入力してください。"},
    )


class RefundForm(forms.Form):
    amount = forms.IntegerField(
        label="返金額（円）",
        min_value=1,
        max_value=9_999_999,
        error_messages={
            "required": "返金額を入力してください。",
            "invalid": "返金額は半角数字で入力してください。",
            "min_value": "返金額は1円以上で入力してください。",
        },
    )
    reason = forms.ChoiceField(
        label="返金の理由",
        choices=[("", "選んでください"), *RefundRequest.Reason.choices],
        error_messages={"required": "返金の理由を選んでください。"},
    )
    reason_text = forms.CharField(
        label="理由の詳細",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RefundDecisionForm(forms.Form):
    note = forms.CharField(
        label="決裁のメモ",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
