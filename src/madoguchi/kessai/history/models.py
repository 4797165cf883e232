"""What survives a merchant's contract end (seed 2(6)イ(エ)), and the reports
of what was deleted. Nothing here is personal data or card data: a payment's
history is its reference, amount, method, dates and status."""

from django.db import models

from madoguchi.kessai.merchants.models import Merchant


class ContractEnd(models.Model):
    """A merchant whose contract has ended: its history is kept until
    ``retain_until``, then the periodic sweep deletes it."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.SET_NULL, null=True, related_name="contract_end"
    )
    merchant_code = models.CharField(max_length=50)
    merchant_name = models.CharField(max_length=100)
    ended_at = models.DateTimeField()
    ended_by = models.CharField(max_length=64)
    retain_until = models.DateTimeField(db_index=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kessai_contract_end"


class PaymentHistory(models.Model):
    """A payment of a merchant whose contract ended, reduced to what may be kept."""

    contract_end = models.ForeignKey(ContractEnd, on_delete=models.CASCADE, related_name="+")
    payment_id = models.CharField(max_length=32)
    reference = models.CharField("整理番号", max_length=40)
    amount = models.PositiveIntegerField()
    method = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "kessai_payment_history"


class DeletionReport(models.Model):
    """What was deleted and when: kept after the data itself is gone."""

    class Kind(models.TextChoices):
        CONTRACT_END = "contract_end", "契約終了による削除"
        RETENTION_END = "retention_end", "保存期間経過による削除"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    merchant_code = models.CharField(max_length=50)
    merchant_name = models.CharField(max_length=100)
    performed_at = models.DateTimeField()
    performed_by = models.CharField(max_length=64)
    # {"kessai_payment": 12, ...}: rows deleted per table
    deleted = models.JSONField(default=dict)
    # The kept history's extent: payment count and the dates it spans.
    kept = models.JSONField(default=dict)
    retain_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kessai_deletion_report"
        ordering = ["-performed_at", "-id"]
