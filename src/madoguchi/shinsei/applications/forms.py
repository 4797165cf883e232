"""Application forms built from a procedure's question definitions.

One ``StepForm`` per step. The session keeps what the citizen typed as raw
form data (so an error never loses an answer), and the answers are the
cleaned values of every step's form. Every error message is Japanese and
names the question, so the error summary reads on its own.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from madoguchi.shinsei.applications.templatetags.citizen import citizen_date
from madoguchi.shinsei.procedures.questions import (
    CHOICE_TYPES,
    DEFAULT_FILE_TYPES,
    DEFAULT_MAX_BYTES,
    PREFECTURES,
    PREFECTURES_EN,
    is_visible,
)

POSTAL_CODE = RegexValidator(r"^\d{3}-?\d{4}$", "")
PHONE = RegexValidator(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$", "")
ADDRESS_PARTS = (
    ("postal_code", gettext_noop("郵便番号")),
    ("prefecture", gettext_noop("都道府県")),
    ("line", gettext_noop("市区町村・番地")),
)
# Full-width digits and hyphens are what Japanese keyboards often type.
_WIDE = str.maketrans("０１２３４５６７８９－ー―‐", "0123456789----")


def _html_attrs(attrs: dict[str, Any]) -> str:
    """Django's ``django/forms/widgets/attrs.html``, in Python."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items()
        if value is not False
    )


class ListSelect(forms.Select):
    """Django's ``Select`` with the same HTML, built in Python: Django's
    templates include one template per option and one more for its
    attributes, which made the 47 prefectures about 2 ms of CPU on every
    view of the address step, more than all its other fields together."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [
            format_html('<select name="{}"', widget["name"]),
            _html_attrs(widget["attrs"]),
            ">",
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts += [
                    format_html('\n  <option value="{}"', str(option["value"])),
                    _html_attrs(option["attrs"]),
                    # (The option template's own newline, kept.)
                    format_html(">{}</option>\n", option["label"]),
                ]
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part escaped above


def _normalise(value: Any) -> Any:
    return value.translate(_WIDE) if isinstance(value, str) else value


def _takes_digits(field: forms.Field) -> bool:
    """A field whose answer is digits and dashes (postal code, phone, number, date)."""
    widget = field.widget
    return widget.attrs.get("inputmode") == "numeric" or getattr(widget, "input_type", "") == "tel"


def _required(label: str, verb: str = "入力") -> dict[str, str]:
    messages = {
        "入力": _("%(label)sを入力してください。"),
        "選択": _("%(label)sを選択してください。"),
        "1つ以上選択": _("%(label)sを1つ以上選択してください。"),
    }
    return {"required": messages[verb] % {"label": label}}


def _postal_field(label: str, required: bool, help_text: str) -> forms.Field:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=8,
        validators=[POSTAL_CODE],
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "inputmode": "numeric", "class": "input-short"}
        ),
        error_messages={
            **_required(label),
            "invalid": _("%(label)sは 251-8601 のように7桁の数字で入力してください。")
            % {"label": label},
            "max_length": _("%(label)sは 251-8601 のように入力してください。") % {"label": label},
        },
    )


def localised(question: dict[str, Any]) -> dict[str, Any]:
    """The question as shown in the active language: ``label_en``,
    ``help_en`` and ``choices_en`` (display only; values stay) when English
    is chosen and the administrator gave them."""
    if get_language() != "en":
        return question
    shown = dict(question)
    for key in ("label", "help"):
        if question.get(f"{key}_en"):
            shown[key] = question[f"{key}_en"]
    choices_en = question.get("choices_en")
    if isinstance(choices_en, list) and len(choices_en) == len(question.get("choices", [])):
        shown["choice_labels"] = choices_en
    return shown


def _prefectures() -> list[tuple[str, str]]:
    shown = PREFECTURES_EN if get_language() == "en" else PREFECTURES
    return list(zip(PREFECTURES, shown, strict=True))


def _choices(question: dict[str, Any]) -> list[tuple[str, str]]:
    values = [str(c) for c in question["choices"]]
    return list(zip(values, question.get("choice_labels", values), strict=True))


def build_fields(question: dict[str, Any]) -> list[tuple[str, forms.Field]]:
    """The form fields of one question (an address has three)."""
    name: str = question["name"]
    label: str = question["label"]
    kind: str = question["type"]
    required = bool(question.get("required", True))
    help_text: str = question.get("help", "")
    common: dict[str, Any] = {"label": label, "required": required, "help_text": help_text}
    if kind in ("text", "textarea"):
        max_length = int(question.get("max_length", 200 if kind == "text" else 2000))
        text_widget: forms.Widget = (
            forms.Textarea(attrs={"rows": 5}) if kind == "textarea" else forms.TextInput()
        )
        return [
            (
                name,
                forms.CharField(
                    max_length=max_length,
                    widget=text_widget,
                    error_messages={
                        **_required(label),
                        "max_length": _("%(label)sは%(max_length)s文字以内で入力してください。")
                        % {"label": label, "max_length": max_length},
                    },
                    **common,
                ),
            )
        ]
    if kind == "email":
        field: forms.Field = forms.EmailField(
            widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
            error_messages={
                **_required(label),
                "invalid": _("%(label)sは name@example.jp の形式で入力してください。")
                % {"label": label},
            },
            **common,
        )
        return [(name, field)]
    if kind == "tel":
        field = forms.CharField(
            max_length=15,
            validators=[PHONE],
            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            error_messages={
                **_required(label),
                "invalid": _("%(label)sは 0466-25-1111 のように数字とハイフンで入力してください。")
                % {"label": label},
                "max_length": _("%(label)sは15文字以内で入力してください。") % {"label": label},
            },
            **common,
        )
        return [(name, field)]
    if kind == "postal_code":
        return [(name, _postal_field(label, required, help_text))]
    if kind == "address":
        part_help = {"postal_code": _("例：251-8601"), "line": help_text}
        fields: list[tuple[str, forms.Field]] = []
        for part, part_label in ADDRESS_PARTS:
            full = _("%(label)s（%(part_label)s）") % {"label": label, "part_label": _(part_label)}
            if part == "postal_code":
                fields.append((f"{name}__{part}", _postal_field(full, required, part_help[part])))
            elif part == "prefecture":
                fields.append(
                    (
                        f"{name}__{part}",
                        forms.ChoiceField(
                            label=full,
                            required=required,
                            choices=[("", _("選択してください")), *_prefectures()],
                            widget=ListSelect(attrs={"autocomplete": "address-level1"}),
                            error_messages={
                                **_required(full, "選択"),
                                "invalid_choice": _("%(full)sは一覧から選択してください。")
                                % {"full": full},
                            },
                        ),
                    )
                )
            else:
                fields.append(
                    (
                        f"{name}__{part}",
                        forms.CharField(
                            label=full,
                            required=required,
                            help_text=part_help[part],
                            max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
                            error_messages={
                                **_required(full),
                                "max_length": _("%(full)sは200文字以内で入力してください。")
                                % {"full": full},
                            },
                        ),
                    )
                )
        return fields
    if kind == "date":
        field = forms.DateField(
            # A text box, not type=date: browsers' date pickers are hard to
            # use with the keyboard and a screen reader (GOV.UK's advice too).
            widget=forms.DateInput(
                attrs={"inputmode": "numeric", "class": "input-date"}, format="%Y-%m-%d"
            ),
            input_formats=["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"],
            error_messages={
                **_required(label),
                "invalid": _("%(label)sは 2000-04-01 のように年-月-日で入力してください。")
                % {"label": label},
            },
            **common,
        )
        return [(name, field)]
    if kind == "number":
        low, high = int(question.get("min", 0)), int(question.get("max", 999999))
        field = forms.IntegerField(
            min_value=low,
            max_value=high,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "input-short"}),
            error_messages={
                **_required(label),
                "invalid": _("%(label)sは半角数字で入力してください。") % {"label": label},
                "min_value": _("%(label)sは%(low)s以上で入力してください。")
                % {"label": label, "low": low},
                "max_value": _("%(label)sは%(high)s以下で入力してください。")
                % {"label": label, "high": high},
            },
            **common,
        )
        return [(name, field)]
    if kind in ("select", "radio"):
        choices = _choices(question)
        widget: forms.Widget
        if kind == "select":
            choices = [("", _("選択してください")), *choices]
            widget = ListSelect()
        else:
            widget = forms.RadioSelect()
        field = forms.ChoiceField(
            choices=choices,
            widget=widget,
            error_messages={
                **_required(label, "選択"),
                "invalid_choice": _("%(label)sは一覧から選択してください。") % {"label": label},
            },
            **common,
        )
        return [(name, field)]
    if kind == "checkboxes":
        field = forms.MultipleChoiceField(
            choices=_choices(question),
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                **_required(label, "1つ以上選択"),
                "invalid_choice": _("%(label)sは一覧から選択してください。") % {"label": label},
            },
            **common,
        )
        return [(name, field)]
    if kind == "file":
        accept = question.get("accept", DEFAULT_FILE_TYPES)
        # Required-ness is checked by StepForm: a file kept from before counts.
        field = forms.FileField(
            label=label,
            required=False,
            help_text=help_text,
            widget=forms.ClearableFileInput(attrs={"accept": picker_accept(accept)}),
            error_messages={
                "invalid": _("%(label)sのファイルを読み取れませんでした。") % {"label": label}
            },
        )
        return [(name, field)]
    raise ValueError(f"unknown question type {kind!r}")


@dataclass(frozen=True)
class FileKind:
    """One kind of file a question may accept: every usual spelling of its
    extension, its media types, and the signature its bytes start with."""

    extensions: frozenset[str]
    media_types: frozenset[str]
    signature: bytes


FILE_KINDS = {
    "pdf": FileKind(frozenset({"pdf"}), frozenset({"application/pdf"}), b"%PDF-"),
    "jpg": FileKind(
        frozenset({"jpg", "jpeg", "jpe", "jfif"}),
        frozenset({"image/jpeg", "image/pjpeg"}),
        b"\xff\xd8\xff",
    ),
    "png": FileKind(frozenset({"png"}), frozenset({"image/png"}), b"\x89PNG\r\n\x1a\n"),
}


def _kinds(accept: list[str]) -> list[str]:
    """The question's ``accept`` as kinds ("jpeg" is the same kind as "jpg")."""
    return [k for k, kind in FILE_KINDS.items() if any(e in kind.extensions for e in accept)]


def picker_accept(accept: list[str]) -> str:
    """The file input's ``accept``: every extension spelling and media type,
    so the picker shows photo.jpeg as well as photo.jpg."""
    parts: list[str] = []
    for name in _kinds([str(e).lower() for e in accept]):
        kind = FILE_KINDS[name]
        parts += [f".{e}" for e in sorted(kind.extensions)] + sorted(kind.media_types)
    return ",".join(parts)


def _allowed_file(question: dict[str, Any], upload: UploadedFile[Any]) -> str | None:
    """A Japanese error for a file that may not be accepted, else None. What
    the bytes are (their signature) decides the kind; the name's extension,
    if it has one, or else the browser's media type must agree with it."""
    label = localised(question)["label"]
    accept = [str(e).lower() for e in question.get("accept", DEFAULT_FILE_TYPES)]
    max_bytes = int(question.get("max_bytes", DEFAULT_MAX_BYTES))
    name = upload.name or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    shown = _("・").join(e.upper() for e in accept)
    wrong_type = _("%(label)sは %(shown)s 形式のファイルを選択してください。") % {
        "label": label,
        "shown": shown,
    }
    kinds = _kinds(accept)
    known = {e for k in kinds for e in FILE_KINDS[k].extensions}
    if ext and ext not in known:
        return wrong_type
    if upload.size is None or upload.size > max_bytes:
        return _("%(label)sのファイルは%(mb)sMB以下にしてください。") % {
            "label": label,
            "mb": max_bytes // (1024 * 1024),
        }
    if upload.size == 0:
        return _("%(label)sのファイルが空です。") % {"label": label}
    head = upload.read(8)
    upload.seek(0)
    found = next((k for k in kinds if head.startswith(FILE_KINDS[k].signature)), None)
    if found is None:
        return wrong_type
    kind = FILE_KINDS[found]
    if ext:
        return None if ext in kind.extensions else wrong_type
    return None if (upload.content_type or "").lower() in kind.media_types else wrong_type


class StepForm(forms.Form):
    """The visible questions of one step."""

    def __init__(
        self,
        questions: Iterable[dict[str, Any]],
        answers_so_far: dict[str, Any],
        *args: Any,
        kept_files: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kept_files = kept_files or {}
        self.questions = [q for q in questions if is_visible(q, answers_so_far)]
        self.groups: list[tuple[dict[str, Any], list[str]]] = []
        for question in self.questions:
            names = []
            for name, field in build_fields(localised(question)):
                self.fields[name] = field
                names.append(name)
            self.groups.append((question, names))

    def full_clean(self) -> None:
        # Normalise full-width digits and dashes before validation, so ０４６６ is
        # fine — only in fields of digits (postal code, phone, number, date): in
        # a name or a choice, ー is the katakana long-vowel mark, not a hyphen.
        if self.data is not None and hasattr(self.data, "copy"):
            data = self.data.copy()
            for key in list(data.keys()):
                field = self.fields.get(key)
                if field is None or not _takes_digits(field):
                    continue
                values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
                if hasattr(data, "setlist"):
                    data.setlist(key, [_normalise(v) for v in values])
                else:
                    data[key] = _normalise(data[key])
            self.data = data
        super().full_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for question, _names in self.groups:
            if question["type"] != "file":
                continue
            name = question["name"]
            upload = cleaned.get(name)
            if isinstance(upload, UploadedFile):
                error = _allowed_file(question, upload)
                if error:
                    self.add_error(name, error)
            elif not self.kept_files.get(name) and question.get("required", True):
                self.add_error(
                    name,
                    _("%(label)sのファイルを選択してください。") % {"label": question["label"]},
                )
        return cleaned

    def error_links(self) -> list[tuple[str, str]]:
        """(element id, message) for the error summary, in page order."""
        links = []
        for name, field in self.fields.items():
            for error in self.errors.get(name, []):
                anchor = f"id_{name}"
                if isinstance(field.widget, forms.RadioSelect):
                    anchor += "_0"  # radios and checkboxes: the first option
                links.append((anchor, str(error)))
        return links

    def answers_partial(self) -> dict[str, Any]:
        """The answers that are valid so far (the form may have errors)."""
        if not hasattr(self, "cleaned_data"):
            return {}
        return self.answers()

    def answers(self) -> dict[str, Any]:
        """Cleaned answers as JSON-ready values. Files are handled by the view."""
        result: dict[str, Any] = {}
        for question, names in self.groups:
            name = question["name"]
            if question["type"] == "file":
                continue
            if question["type"] == "address":
                parts = {
                    part: str(self.cleaned_data.get(f"{name}__{part}") or "").strip()
                    for part, _ in ADDRESS_PARTS
                }
                result[name] = parts if any(parts.values()) else None
                continue
            value = self.cleaned_data.get(names[0])
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, str):
                value = value.strip()
            result[name] = value
        return result


def answers_to_data(questions: Iterable[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """Raw form data that reproduces answers (for correcting after 差戻し)."""
    data: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q["name"])
        if value in (None, "") or q["type"] == "file":
            continue
        if q["type"] == "address" and isinstance(value, dict):
            for part, _ in ADDRESS_PARTS:
                data[f"{q['name']}__{part}"] = str(value.get(part, ""))
        elif isinstance(value, list):
            data[q["name"]] = [str(v) for v in value]
        else:
            data[q["name"]] = str(value)
    return data


def show_answer(question: dict[str, Any], value: Any) -> str:
    """An answer as the citizen reads it in the active language: a choice by
    its label (``choices_en`` in English; the stored value stays Japanese)."""
    if value in (None, "", []):
        return ""
    kind = question["type"]
    english = get_language() == "en"
    if kind == "address" and isinstance(value, dict):
        postal = f"〒{value.get('postal_code')} " if value.get("postal_code") else ""
        prefecture = str(value.get("prefecture", ""))
        if english:
            # The stored value stays Japanese; the prefecture reads as chosen.
            shown = dict(zip(PREFECTURES, PREFECTURES_EN, strict=True)).get(prefecture, prefecture)
            return f"{postal}{shown}, {value.get('line', '')}"
        return f"{postal}{prefecture}{value.get('line', '')}"
    if kind == "date" and isinstance(value, str):
        try:
            return citizen_date(datetime.date.fromisoformat(value))
        except ValueError:
            return value
    if kind in CHOICE_TYPES:
        labels = dict(_choices(localised(question)))
        values = value if isinstance(value, list) else [value]
        return (", " if english else "、").join(labels.get(str(v), str(v)) for v in values)
    if kind == "file" and isinstance(value, dict):
        size = int(value.get("size", 0)) // 1024 + 1
        return f"{value.get('name')} ({size} KB)" if english else f"{value.get('name')}（{size}KB）"
    return str(value)


class InquiryForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("整理番号"),
        max_length=20,
        error_messages={"required": gettext_lazy("整理番号を入力してください。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label=gettext_lazy("パスワード"),
        max_length=40,
        error_messages={"required": gettext_lazy("パスワードを入力してください。")},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_reference(self) -> str:
        return re.sub(r"[\s-]", "", self.cleaned_data["reference"])

    def error_links(self) -> list[tuple[str, str]]:
        return [(f"id_{n}", str(e)) for n in self.fields for e in self.errors.get(n, [])]


def display_answers(
    questions: Iterable[dict[str, Any]], answers: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """(name, label, shown value) for the check-answers and detail pages;
    questions hidden by their condition are left out."""
    rows = []
    for question in questions:
        if not is_visible(question, answers):
            continue
        rows.append(
            (
                question["name"],
                localised(question)["label"],
                show_answer(question, answers.get(question["name"])),
            )
        )
    return rows
