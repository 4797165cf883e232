"""Full-width digits and dashes are normalised only where an answer is digits:
in a name or a choice, ー is the katakana long-vowel mark."""

from typing import Any

from madoguchi.shinsei.applications.forms import StepForm

QUESTIONS: list[dict[str, Any]] = [
    {"name": "name", "label": "氏名（カナ）", "type": "text"},
    {"name": "room", "label": "部屋", "type": "select", "choices": ["ホール", "和室"]},
    {"name": "phone", "label": "電話番号", "type": "tel"},
    {"name": "postal", "label": "郵便番号", "type": "postal_code"},
    {"name": "copies", "label": "通数", "type": "number", "min": 1, "max": 10},
]


def test_katakana_long_vowel_is_kept_and_digits_are_normalised() -> None:
    form = StepForm(
        QUESTIONS,
        {},
        data={
            "name": "ヤマダ　ユーコ",
            "room": "ホール",
            "phone": "０４６６－２５－１１１１",
            "postal": "２５１ー８６０１",
            "copies": "２",
        },
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "ヤマダ　ユーコ"
    assert form.cleaned_data["room"] == "ホール"
    assert form.cleaned_data["phone"] == "0466-25-1111"
    assert form.cleaned_data["postal"] == "251-8601"
    assert form.cleaned_data["copies"] == 2
