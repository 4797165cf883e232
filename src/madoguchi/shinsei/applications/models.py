from django.db import models

from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.shinsei.staff.models import StaffAccount


class Application(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "審査待ち"
        ACCEPTED = "accepted", "受理"

    class PaymentStatus(models.TextChoices):
        NOT_REQUIRED = "not_required", "決済不要"
        NOT_YET = "not_yet", "受理後に請求"
        PREPARING = "preparing", "請求準備中"
        UNPAID = "unpaid", "未決済"
        PAID = "paid", "決済済"
        EXPIRED = "expired", "期限切れ"
        CANCELLED = "cancelled", "取消"
        REFUNDED = "refunded", "返金済"

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="applications")
    reference = models.CharField("整理番号", max_length=20, unique=True)
    inquiry_password = models.CharField(max_length=200)  # Argon2id hash
    answers = models.JSONField("回答")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    fee_amount = models.PositiveIntegerField("手数料等（円）", default=0)
    submitted_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        StaffAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    payment_status = models.CharField(
        "決済状況", max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.NOT_REQUIRED
    )
    payment_due_at = models.DateTimeField("支払期限", null=True, blank=True)
    payment_requested_at = models.DateTimeField(null=True, blank=True)
    kessai_payment_id = models.CharField(max_length=40, blank=True, db_index=True)
    payment_method = models.CharField("決済方法", max_length=16, blank=True)
    paid_at = models.DateTimeField("決済日", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shinsei_application"
        indexes = [models.Index(fields=["payment_status", "payment_requested_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def applicant_name(self) -> str:
        return str(self.answers.get("name", ""))


class ReceivedEvent(models.Model):
    """Kessai notification ids already applied: deliveries are at least once."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shinsei_received_event"
