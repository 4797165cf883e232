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


class Procedure(models.Model):
    class FeeKind(models.TextChoices):
        NONE = "none", "手数料なし"
        FIXED = "fixed", "定額"
        PER_UNIT = "per_unit", "単価×数量"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="procedures")
    slug = models.SlugField(unique=True)
    name = models.CharField("手続名", max_length=200)
    description = models.TextField("説明", blank=True)
    fee_kind = models.CharField(max_length=16, choices=FeeKind.choices, default=FeeKind.NONE)
    fee_amount = models.PositiveIntegerField("手数料（円）", default=0)
    # For PER_UNIT: the number question holding the quantity (e.g. 通数).
    quantity_field = models.CharField(max_length=40, blank=True)
    # The form: a list of question definitions, see applications/forms.py.
    form_fields = models.JSONField(default=list)
    is_published = models.BooleanField(default=True)

    class Meta:
        db_table = "shinsei_procedure"

    def __str__(self) -> str:
        return self.name

    @property
    def has_fee(self) -> bool:
        return self.fee_kind != self.FeeKind.NONE and self.fee_amount > 0

    def fee_for(self, answers: dict[str, object]) -> int:
        if self.fee_kind == self.FeeKind.FIXED:
            return self.fee_amount
        if self.fee_kind == self.FeeKind.PER_UNIT:
            quantity = answers.get(self.quantity_field) or 1
            return self.fee_amount * int(str(quantity))
        return 0
