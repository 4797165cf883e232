import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.kessai.providers.card.cards import (
    CardDetails,
    card_expired,
    detect_brand,
    luhn_valid,
    normalize_number,
)

MONTH_CHOICES = [("", gettext_lazy("月"))] + [(str(m), f"{m:02d}") for m in range(1, 13)]


def year_choices(today: datetime.date) -> list[tuple[str, str]]:
    years = [(str(y), str(y)) for y in range(today.year, today.year + 16)]
    return [("", _("年")), *years]


class NeverRenderedTextInput(forms.TextInput):
    """A text input that never writes its value back into the page."""

    def format_value(self, value: object) -> None:
        return None


class CardForm(forms.Form):
    """Card entry. Values are never re-rendered into the page after a POST."""

    card_number = forms.CharField(
        label=gettext_lazy("カード番号"),
        max_length=23,
        error_messages={"required": gettext_lazy("カード番号を入力してください。")},
        widget=NeverRenderedTextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
        ),
        help_text=gettext_lazy("数字のみ、またはスペース区切りで入力してください。"),
    )
    exp_month = forms.TypedChoiceField(
        label=gettext_lazy("有効期限（月）"),
        coerce=int,
        choices=MONTH_CHOICES,
        error_messages={"required": gettext_lazy("有効期限（月）を選択してください。")},
        widget=forms.Select(attrs={"autocomplete": "cc-exp-month"}),
    )
    exp_year = forms.TypedChoiceField(
        label=gettext_lazy("有効期限（年）"),
        coerce=int,
        choices=[],
        error_messages={"required": gettext_lazy("有効期限（年）を選択してください。")},
        widget=forms.Select(attrs={"autocomplete": "cc-exp-year"}),
    )
    security_code = forms.CharField(
        label=gettext_lazy("セキュリティコード"),
        max_length=4,
        error_messages={"required": gettext_lazy("セキュリティコードを入力してください。")},
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
        help_text=gettext_lazy("カード裏面（American Expressは表面）の3桁または4桁の数字です。"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = timezone.localdate()
        self.fields["exp_year"].choices = year_choices(self.today)  # type: ignore[attr-defined]

    def clean_card_number(self) -> str:
        number = normalize_number(self.cleaned_data["card_number"])
        if not number.isdigit():
            raise forms.ValidationError(_("カード番号は数字で入力してください。"))
        if not 13 <= len(number) <= 19:
            raise forms.ValidationError(_("カード番号の桁数が正しくありません。"))
        if not luhn_valid(number):
            raise forms.ValidationError(
                _("カード番号が正しくありません。入力した番号をご確認ください。")
            )
        if detect_brand(number) is None:
            raise forms.ValidationError(
                _(
                    "このカードはご利用いただけません。Visa、Mastercard、JCB、"
                    "American Express、Diners Clubのカードをご利用ください。"
                )
            )
        return number

    def clean_security_code(self) -> str:
        code: str = self.cleaned_data["security_code"].strip()
        if not code.isdigit() or len(code) not in (3, 4):
            raise forms.ValidationError(
                _("セキュリティコードは3桁または4桁の数字で入力してください。")
            )
        return code

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        month, year = cleaned.get("exp_month"), cleaned.get("exp_year")
        if (
            isinstance(month, int)
            and isinstance(year, int)
            and card_expired(month, year, self.today)
        ):
            self.add_error(
                "exp_month", _("有効期限が過ぎています。カードの有効期限をご確認ください。")
            )
        return cleaned

    def card(self) -> CardDetails:
        data = self.cleaned_data
        return CardDetails(
            number=data["card_number"],
            exp_month=data["exp_month"],
            exp_year=data["exp_year"],
            security_code=data["security_code"],
        )
