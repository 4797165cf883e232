"""Console forms: filters for the pages and exports, and the management forms."""

import datetime
import re
from typing import Any

from django import forms

from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.statistics.models import FeeRate
from madoguchi.platform.forms import FilterDateField, month_in_range

from .models import ConsoleAccount
from .selectors import METHOD_LABELS, STATUS_LABELS, TransactionDetail, TransactionFilter

ENCODINGS = [("utf-8", "UTF-8（BOM付き）"), ("shift_jis", "Shift_JIS")]


def _merchant_choices() -> list[tuple[str, str]]:
    return [("", "すべて")] + [
        (str(pk), name)
        for pk, name in Merchant.objects.order_by("pk").values_list("pk", "display_name")
    ]


class TransactionSearchForm(forms.Form):
    reference = forms.CharField(label="整理番号", required=False, max_length=40)
    payment_id = forms.CharField(label="決済ID", required=False, max_length=32)
    date_from = FilterDateField(label="期間（開始日）")
    date_to = FilterDateField(label="期間（終了日）")
    date_basis = forms.ChoiceField(
        label="期間の基準",
        choices=[("created", "受付日"), ("paid", "決済日")],
        required=False,
    )
    status = forms.ChoiceField(
        label="状態", required=False, choices=[("", "すべて"), *STATUS_LABELS.items()]
    )
    method = forms.ChoiceField(
        label="決済方法", required=False, choices=[("", "すべて"), *METHOD_LABELS.items()]
    )
    merchant = forms.ChoiceField(label="加盟店", required=False)
    encoding = forms.ChoiceField(label="文字コード", required=False, choices=ENCODINGS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = _merchant_choices()  # type: ignore[attr-defined]

    def filters(self) -> TransactionFilter:
        data = self.cleaned_data if self.is_valid() else {}
        merchant = data.get("merchant") or ""
        return TransactionFilter(
            reference=(data.get("reference") or "").strip(),
            payment_id=(data.get("payment_id") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            date_basis=data.get("date_basis") or "created",
            status=data.get("status") or "",
            method=data.get("method") or "",
            merchant_id=int(merchant) if merchant else None,
        )


class DayForm(forms.Form):
    day = FilterDateField(label="日付")
    merchant = forms.ChoiceField(label="加盟店", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = _merchant_choices()  # type: ignore[attr-defined]

    def merchant_id(self) -> int | None:
        value = self.cleaned_data.get("merchant") if self.is_valid() else ""
        return int(value) if value else None


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


MONTH_ERROR = "月は「2026-12」の形で、2000-01から2099-12までの間で入力してください。"


def parse_month(value: str) -> datetime.date | None:
    match = _MONTH.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        return None  # year 0 does not exist
    month = datetime.date(int(match.group(1)), int(match.group(2)), 1)
    return month if month_in_range(month) else None


class SummaryExportForm(forms.Form):
    date_from = FilterDateField(label="開始日")
    date_to = FilterDateField(label="終了日")
    encoding = forms.ChoiceField(label="文字コード", required=False, choices=ENCODINGS)


class FeeRateForm(forms.ModelForm[FeeRate]):
    class Meta:
        model = FeeRate
        fields = ["method", "effective_from", "percent", "fixed_yen"]
        field_classes = {"effective_from": FilterDateField}


class MerchantForm(forms.Form):
    code = forms.SlugField(label="加盟店コード", max_length=50)
    display_name = forms.CharField(label="表示名（実施機関名）", max_length=100)
    notification_url = forms.URLField(label="通知先URL", max_length=500)

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"])
        if Merchant.objects.filter(code=code).exists():
            raise forms.ValidationError("この加盟店コードは使われています。")
        return code


class AccountForm(forms.Form):
    login_id = forms.RegexField(label="ログインID", max_length=64, regex=r"^[A-Za-z0-9._-]{3,64}$")
    display_name = forms.CharField(label="氏名", max_length=100)
    role = forms.ChoiceField(label="権限", choices=ConsoleAccount.Role.choices)

    def clean_login_id(self) -> str:
        login_id = str(self.cleaned_data["login_id"])
        if ConsoleAccount.objects.filter(login_id=login_id).exists():
            raise forms.ValidationError("このログインIDは使われています。")
        return login_id


class OperationReasonForm(forms.Form):
    """Every console operation says why (it goes into the audit log)."""

    reason = forms.CharField(
        label="理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "理由を入力してください。"},
    )


class ConsoleRefundForm(OperationReasonForm):
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
    written_request = forms.CharField(
        label="依頼文書の番号",
        max_length=80,
        help_text="加盟店（実施機関）からの返金依頼の文書番号（例：藤市第123号）",
        error_messages={"required": "依頼文書の番号を入力してください。"},
    )
    # What the page showed as refundable: the precondition of the refund.
    expected_refundable_amount = forms.IntegerField(
        min_value=0, max_value=9_999_999, widget=forms.HiddenInput
    )


class RefundRegisterForm(forms.Form):
    date_from = forms.DateField(label="返金日（から）", required=False)
    date_to = forms.DateField(label="返金日（まで）", required=False)
    merchant = forms.ChoiceField(label="加盟店", required=False)
    encoding = forms.ChoiceField(label="文字コード", required=False, choices=ENCODINGS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = _merchant_choices()  # type: ignore[attr-defined]

    def period(self, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        """[start, end) in JST days; this month by default."""
        data = self.cleaned_data if self.is_valid() else {}
        start = data.get("date_from") or today.replace(day=1)
        last = data.get("date_to") or today
        return start, last + datetime.timedelta(days=1)

    def merchant_id(self) -> int | None:
        value = self.cleaned_data.get("merchant") if self.is_valid() else ""
        return int(value) if value else None


def transaction_forms(
    detail: TransactionDetail, forms: dict[str, Any] | None = None
) -> dict[str, Any]:
    forms = forms or {}
    return {
        "cancel_form": forms.get("cancel", OperationReasonForm(prefix="cancel")),
        "refund_form": forms.get(
            "refund",
            ConsoleRefundForm(
                prefix="refund",
                initial={"expected_refundable_amount": detail.refundable_amount},
            ),
        ),
    }
