"""Application forms built from a procedure's question definitions.

A question is a dict: ``{"name", "label", "type", "required"?, "help"?,
"max_length"?, "min"?, "max"?, "choices"?}``. Every error message is Japanese
and names the question, so the error summary reads on its own.
"""

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import RegexValidator

POSTAL_CODE = RegexValidator(r"^\d{3}-?\d{4}$", "")
PHONE = RegexValidator(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$", "")

QUESTION_TYPES = ("text", "textarea", "email", "tel", "date", "number", "postal_code", "select")


def _messages(label: str, verb: str = "入力") -> dict[str, str]:
    return {"required": f"{label}を{verb}してください。"}


def build_field(question: dict[str, Any]) -> forms.Field:
    label: str = question["label"]
    kind: str = question["type"]
    required = bool(question.get("required", True))
    common: dict[str, Any] = {
        "label": label,
        "required": required,
        "help_text": question.get("help", ""),
    }
    if kind in ("text", "textarea"):
        max_length = int(question.get("max_length", 200 if kind == "text" else 2000))
        return forms.CharField(
            max_length=max_length,
            widget=forms.Textarea(attrs={"rows": 4}) if kind == "textarea" else forms.TextInput,
            error_messages={
                **_messages(label),
                "max_length": f"{label}は{max_length}文字以内で入力してください。",
            },
            **common,
        )
    if kind == "email":
        return forms.EmailField(
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            error_messages={
                **_messages(label),
                "invalid": f"{label}は name@example.jp の形式で入力してください。",
            },
            **common,
        )
    if kind == "tel":
        return forms.CharField(
            max_length=15,
            validators=[PHONE],
            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            error_messages={
                **_messages(label),
                "invalid": f"{label}は 0466-25-1111 のように数字とハイフンで入力してください。",
                "max_length": f"{label}は15文字以内で入力してください。",
            },
            **common,
        )
    if kind == "postal_code":
        return forms.CharField(
            max_length=8,
            validators=[POSTAL_CODE],
            widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
            error_messages={
                **_messages(label),
                "invalid": f"{label}は 251-8601 のように7桁の数字で入力してください。",
                "max_length": f"{label}は 251-8601 のように入力してください。",
            },
            **common,
        )
    if kind == "date":
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            input_formats=["%Y-%m-%d", "%Y/%m/%d"],
            error_messages={
                **_messages(label),
                "invalid": f"{label}は 2000-04-01 のように年-月-日で入力してください。",
            },
            **common,
        )
    if kind == "number":
        low, high = int(question.get("min", 0)), int(question.get("max", 999999))
        return forms.IntegerField(
            min_value=low,
            max_value=high,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            error_messages={
                **_messages(label),
                "invalid": f"{label}は半角数字で入力してください。",
                "min_value": f"{label}は{low}以上で入力してください。",
                "max_value": f"{label}は{high}以下で入力してください。",
            },
            **common,
        )
    if kind == "select":
        choices = [("", "選択してください")] + [(c, c) for c in question["choices"]]
        return forms.ChoiceField(
            choices=choices,
            error_messages={
                **_messages(label, "選択"),
                "invalid_choice": f"{label}は一覧から選択してください。",
            },
            **common,
        )
    raise ValueError(f"unknown question type {kind!r}")


class ApplicationForm(forms.Form):
    def __init__(self, questions: Iterable[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[question["name"]] = build_field(question)

    def answers(self) -> dict[str, Any]:
        """Cleaned answers as JSON-ready values (dates as ISO strings)."""
        result: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, str):
                value = value.strip()
            result[name] = value
        return result


class InquiryForm(forms.Form):
    reference = forms.CharField(
        label="整理番号",
        max_length=20,
        error_messages={"required": "整理番号を入力してください。"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label="パスワード",
        max_length=40,
        error_messages={"required": "パスワードを入力してください。"},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_reference(self) -> str:
        return re.sub(r"[\s-]", "", self.cleaned_data["reference"])


def display_answers(
    questions: Iterable[dict[str, Any]], answers: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """(name, label, shown value) for the check-answers and detail pages."""
    rows = []
    for question in questions:
        value = answers.get(question["name"])
        shown = "" if value in (None, "") else str(value)
        rows.append((question["name"], question["label"], shown))
    return rows
