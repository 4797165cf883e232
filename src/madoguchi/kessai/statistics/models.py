"""Configuration of the figures the console computes from the daily summaries."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from madoguchi.contract.schemas import PaymentMethod


class FeeRate(models.Model):
    """What the payment provider charges for one method, from a given JST day on.

    A new contract rate is a new row with its own effective date, so the fees of
    past days keep being computed with the rate that applied to them.
    """

    method = models.CharField(
        "決済方法", max_length=16, choices=[(m.value, m.value) for m in PaymentMethod]
    )
    effective_from = models.DateField("適用開始日")
    percent = models.DecimalField(
        "料率（%）",
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    fixed_yen = models.PositiveIntegerField("1件あたりの固定額（円）", default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "kessai_fee_rate"
        constraints = [
            models.UniqueConstraint(
                fields=["method", "effective_from"], name="kessai_fee_rate_method_day"
            )
        ]
        ordering = ["method", "effective_from"]
