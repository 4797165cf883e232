"""Kessai's payments. Deliberately no field for any personal data: a payment
knows its merchant, reference (整理番号) and amount, and nothing about who."""

import secrets

from django.db import models
from django.db.models import Q

from madoguchi.contract.schemas import PaymentMethod, PaymentStatus
from madoguchi.kessai.merchants.models import Merchant

LIVE_STATUSES = [PaymentStatus.CREATED, PaymentStatus.STARTED, PaymentStatus.SUCCEEDED]


def new_payment_id() -> str:
    return "pay_" + secrets.token_hex(12)


class Payment(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_payment_id)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField("整理番号", max_length=40)
    amount = models.PositiveIntegerField("金額（円）")
    return_url = models.URLField(max_length=500)
    language = models.CharField(max_length=2, default="ja")
    status = models.CharField(
        max_length=16,
        choices=[(s.value, s.value) for s in PaymentStatus],
        default=PaymentStatus.CREATED,
    )
    method = models.CharField(
        max_length=16, choices=[(m.value, m.value) for m in PaymentMethod], blank=True
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # Money sent back: succeeded refunds, and refunds sent but not yet answered.
    # Both change only under the payment's row lock (services.refund_*), so
    # ``amount - refunded_amount - refund_pending_amount`` is never negative.
    refunded_amount = models.PositiveIntegerField(default=0)
    refund_pending_amount = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "kessai_payment"
        constraints = [
            # At most one live payment per 整理番号: a retried request can never
            # lead to the citizen being charged twice for one application.
            models.UniqueConstraint(
                fields=["merchant", "reference"],
                condition=Q(status__in=LIVE_STATUSES),
                name="kessai_one_live_payment_per_reference",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "updated_at"])]

    def __str__(self) -> str:
        return self.public_id

    @property
    def refundable_amount(self) -> int:
        if self.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
            return 0
        return self.amount - self.refunded_amount - self.refund_pending_amount


class Attempt(models.Model):
    """One try at paying: a card authorization, a PayPay code, an Apple Pay token."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        FAILED = "failed"  # technical failure, outcome known: nothing was charged
        UNKNOWN = "unknown"  # the provider did not answer; the janitor asks later
        # The citizen must act elsewhere first: a 3-D Secure challenge at the
        # issuer, approval in the PayPay app. Blocks other attempts like PENDING.
        REQUIRES_ACTION = "requires_action"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="attempts")
    method = models.CharField(max_length=16, choices=[(m.value, m.value) for m in PaymentMethod])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decline_code = models.CharField(max_length=40, blank=True)
    provider_reference = models.CharField(max_length=80, blank=True)
    # At most brand and last four digits; never the number, expiry or code.
    card_brand = models.CharField(max_length=16, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    eci = models.CharField(max_length=2, blank=True)
    # EMV 3-D Secure 2: "frictionless" or "challenge"; empty for wallets.
    three_ds = models.CharField(max_length=16, blank=True)
    # Where the citizen acts (issuer challenge page, PayPay code URL / deep link).
    action_url = models.CharField(max_length=500, blank=True)
    action_deeplink = models.CharField(max_length=500, blank=True)
    action_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kessai_attempt"
        indexes = [models.Index(fields=["status", "created_at"])]


def new_refund_id() -> str:
    return "ref_" + secrets.token_hex(12)


class Refund(models.Model):
    """Money sent back for a succeeded payment, in full or in part."""

    class Status(models.TextChoices):
        PENDING = "pending"  # sent (or about to be); the janitor settles it
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    public_id = models.CharField(max_length=32, unique=True, default=new_refund_id)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # The attempt whose money is returned (the one that succeeded).
    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(max_length=40, blank=True)
    provider_reference = models.CharField(max_length=80, blank=True)
    # Who asked: the merchant through the API, or an administrator in the
    # console on the agency's written request (its document number kept here).
    origin = models.CharField(max_length=16, default="api")
    written_request = models.CharField("依頼文書", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kessai_refund"
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The refund register (還付一覧): succeeded refunds by day.
            models.Index(fields=["status", "succeeded_at"], name="kessai_refund_register"),
        ]

    def __str__(self) -> str:
        return self.public_id


class ApplePayTransaction(models.Model):
    """Apple Pay transactionIds already used: a token is good for one try,
    whatever its outcome (the unique index makes the check race-free)."""

    transaction_id = models.CharField(max_length=128, unique=True)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "kessai_applepay_transaction"


class PaymentEvent(models.Model):
    """Append-only history of a payment."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kessai_payment_event"
        ordering = ["id"]


class IdempotencyRecord(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "kessai_idempotency"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="kessai_idempotency_key")
        ]


class CheckoutToken(models.Model):
    """A short-lived, single-use link to the hosted payment page."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="checkout_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kessai_checkout_token"


class Notification(models.Model):
    """An event for the merchant, delivered at least once with back-off."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        GAVE_UP = "gave_up"

    event_id = models.CharField(max_length=40, unique=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=40)
    body = models.TextField()  # the exact JSON sent, so every retry is byte-identical
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kessai_notification"


class NotificationDelivery(models.Model):
    """One try at delivering a notification: the delivery log."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    attempted_at = models.DateTimeField(auto_now_add=True)
    response_status = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "kessai_notification_delivery"
        ordering = ["id"]


class DailySummary(models.Model):
    """Running totals per JST day, merchant and method, kept in the same
    transaction as the change they count, so they can never drift. The console
    reads these instead of scanning payments (see ledger.py)."""

    day = models.DateField()  # in Asia/Tokyo
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=16)
    succeeded_count = models.PositiveIntegerField(default=0)
    succeeded_amount = models.PositiveBigIntegerField(default=0)
    refunded_count = models.PositiveIntegerField(default=0)
    refunded_amount = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "kessai_daily_summary"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "merchant", "method"], name="kessai_daily_summary_key"
            )
        ]
