from datetime import datetime
from typing import Any

from django.db import models


class Agency(models.Model):
    """実施機関 (市長, 農業委員会). Each is its own merchant in Kessai."""

    code = models.SlugField(unique=True)
    name = models.CharField("名称", max_length=100)
    # Credentials Kessai issued to this agency. Read from the environment in
    # production deployments (see docs/operations.md); kept here for the
    # embedded default.
    kessai_api_key = models.CharField(max_length=200, blank=True)
    kessai_notification_secrets = models.JSONField(default=list, blank=True)
    # Which payment gateway collects this agency's fees (shinsei/gateways):
    # Madoguchi Kessai, or SBPS's link type with SBPS's own codes and hash key.
    # Like the Kessai credentials, the environment wins in production.
    payment_gateway = models.CharField("決済代行", max_length=16, default="kessai")
    sbps_merchant_id = models.CharField(max_length=5, blank=True)
    sbps_service_id = models.CharField(max_length=3, blank=True)
    sbps_hash_key = models.CharField(max_length=100, blank=True)
    sbps_hash_encoding = models.CharField(max_length=16, default="Shift_JIS")
    # Whether this agency's staff must use a TOTP second factor (issue #6).
    staff_totp_required = models.BooleanField("職員の二要素認証", default=False)

    class Meta:
        db_table = "shinsei_agency"

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """手続所管課: the department that owns procedures and reviews applications."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="departments")
    code = models.SlugField(unique=True)
    name = models.CharField("課名", max_length=100)

    class Meta:
        db_table = "shinsei_department"

    def __str__(self) -> str:
        return self.name


class RetentionYears(models.IntegerChoices):
    ONE = 1, "1年"
    THREE = 3, "3年"
    FIVE = 5, "5年"
    TEN = 10, "10年"
    THIRTY = 30, "30年"


class RetentionAction(models.TextChoices):
    DELETE = "delete", "削除する"
    ANONYMISE = "anonymise", "匿名化して統計用に残す"


class Procedure(models.Model):
    class FeeKind(models.TextChoices):
        NONE = "none", "手数料なし"
        FIXED = "fixed", "定額"
        PER_UNIT = "per_unit", "単価×数量"
        STAFF_SET = "staff_set", "受理時に職員が金額を決定"

    class PaymentTiming(models.TextChoices):
        AFTER_ACCEPTANCE = "after_acceptance", "受理後に支払う"
        AT_SUBMISSION = "at_submission", "申請時に支払う"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="procedures")
    slug = models.SlugField(unique=True)
    name = models.CharField("手続名", max_length=200)
    description = models.TextField("説明", blank=True)
    fee_kind = models.CharField(max_length=16, choices=FeeKind.choices, default=FeeKind.NONE)
    fee_amount = models.PositiveIntegerField("手数料（円）", default=0)
    # For PER_UNIT: the number question holding the quantity (e.g. 通数).
    quantity_field = models.CharField(max_length=40, blank=True)
    payment_timing = models.CharField(
        "支払時期",
        max_length=20,
        choices=PaymentTiming.choices,
        default=PaymentTiming.AFTER_ACCEPTANCE,
    )
    # The form being edited: a list of question definitions (see questions.py).
    # Citizens always fill in a frozen FormVersion of it.
    form_fields = models.JSONField(default=list)
    # 利用目的 and the privacy notice, shown before the first question and
    # frozen with each form version (個人情報保護法 第61条・第62条).
    purpose = models.TextField("利用目的", blank=True)
    privacy_notice = models.TextField("個人情報の取扱い", blank=True)
    # 保存期間 (the retention class of the city's 文書管理規程), counted from
    # the day an application ends, and what happens then.
    retention_years = models.PositiveSmallIntegerField(
        "保存期間", choices=RetentionYears.choices, default=RetentionYears.FIVE
    )
    retention_action = models.CharField(
        "保存期間経過後", max_length=16, choices=RetentionAction.choices,
        default=RetentionAction.DELETE,
    )  # fmt: skip
    is_published = models.BooleanField("公開", default=True)
    published_from = models.DateTimeField("公開開始", null=True, blank=True)
    published_until = models.DateTimeField("公開終了", null=True, blank=True)

    class Meta:
        db_table = "shinsei_procedure"

    def __str__(self) -> str:
        return self.name

    @property
    def has_fee(self) -> bool:
        if self.fee_kind == self.FeeKind.STAFF_SET:
            return True
        return self.fee_kind != self.FeeKind.NONE and self.fee_amount > 0

    @property
    def pays_at_submission(self) -> bool:
        # An amount staff set cannot be paid before staff set it.
        return (
            self.payment_timing == self.PaymentTiming.AT_SUBMISSION
            and self.fee_kind != self.FeeKind.STAFF_SET
        )

    def is_open(self, now: datetime) -> bool:
        if not self.is_published:
            return False
        if self.published_from and now < self.published_from:
            return False
        return not (self.published_until and now >= self.published_until)

    def fee_for(self, answers: dict[str, Any]) -> int:
        if self.fee_kind == self.FeeKind.FIXED:
            return self.fee_amount
        if self.fee_kind == self.FeeKind.PER_UNIT:
            quantity = answers.get(self.quantity_field) or 1
            return self.fee_amount * int(str(quantity))
        return 0


class FormVersion(models.Model):
    """A frozen copy of a procedure's questions. An application keeps the
    version it was filed under, so later edits never change what it means."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    questions = models.JSONField()
    # The 利用目的 and notice the citizen was shown with these questions.
    purpose = models.TextField(blank=True)
    privacy_notice = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "shinsei_form_version"
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="form_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.slug} v{self.number}"
