import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.shinsei.procedures.models import FormVersion, Procedure
from madoguchi.shinsei.staff.models import StaffAccount


class Application(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("審査待ち")
        RETURNED = "returned", _("差戻し")
        ACCEPTED = "accepted", _("受理")
        REJECTED = "rejected", _("却下")
        WITHDRAWN = "withdrawn", _("取下げ")
        COMPLETED = "completed", _("処理完了")

    class PaymentStatus(models.TextChoices):
        NOT_REQUIRED = "not_required", _("決済不要")
        NOT_YET = "not_yet", _("受理後に請求")
        PREPARING = "preparing", _("請求準備中")
        UNPAID = "unpaid", _("未決済")
        PAID = "paid", _("決済済")
        EXPIRED = "expired", _("期限切れ")
        CANCELLED = "cancelled", _("取消")
        REFUNDED = "refunded", _("返金済")

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="applications")
    # Null only for rows filed before versions existed.
    form_version = models.ForeignKey(
        FormVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField("整理番号", max_length=20, unique=True)
    inquiry_password = models.CharField(max_length=200)  # Argon2id hash
    answers = models.JSONField("回答")
    applicant_email = models.EmailField(blank=True)
    # The language the citizen applied in: their emails and payment page use it.
    language = models.CharField(max_length=2, default="ja")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    # The reason given with the latest 差戻し or 却下, shown to the citizen.
    reason = models.TextField("理由", blank=True)
    fee_amount = models.PositiveIntegerField("手数料等（円）", default=0)
    submitted_at = models.DateTimeField(auto_now_add=True)
    resubmitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        StaffAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        StaffAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    payment_status = models.CharField(
        "決済状況", max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.NOT_REQUIRED
    )
    payment_due_at = models.DateTimeField("支払期限", null=True, blank=True)
    payment_requested_at = models.DateTimeField(null=True, blank=True)
    # When the reconciliation sweep last asked Kessai about this payment.
    payment_checked_at = models.DateTimeField(null=True, blank=True)
    # The gateway that collects this fee (fixed when the payment is requested,
    # so an agency changing gateway leaves payments in flight where they are)
    # and that gateway's id of the payment: Kessai's payment id, or for SBPS's
    # link type the order_id (= 整理番号).
    payment_gateway = models.CharField(max_length=16, blank=True)
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

    @property
    def questions(self) -> list[dict[str, object]]:
        if self.form_version is not None:
            return list(self.form_version.questions)
        return list(self.procedure.form_fields)

    @property
    def can_withdraw(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.RETURNED)


class ApplicationEvent(models.Model):
    """What happened to an application, by whom (staff key or "citizen")."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    actor = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "shinsei_application_event"
        ordering = ["at", "id"]


class ApplicationNote(models.Model):
    """内部メモ: seen by staff only, never by the citizen."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(StaffAccount, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shinsei_application_note"
        ordering = ["created_at", "id"]


class StoredFile(models.Model):
    """An uploaded file. The bytes live under MADOGUCHI_VAR_DIR, not in the
    database; the row is the index and the scan result."""

    class Scan(models.TextChoices):
        CLEAN = "clean", "問題なし"
        INFECTED = "infected", "検出"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    question = models.CharField(max_length=40)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=100, unique=True)
    scan = models.CharField(max_length=16, choices=Scan.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shinsei_stored_file"


class Draft(models.Model):
    """一時保存: a citizen's unfinished form, reopened with a secret link."""

    token_hash = models.CharField(max_length=64, unique=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "shinsei_draft"


class CitizenMail(models.Model):
    """An email owed to the citizen; sent once by a task (the outbox row)."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "申請受付"
        ACCEPTED = "accepted", "受理"
        PAID = "paid", "決済完了"
        RETURNED = "returned", "差戻し"
        REJECTED = "rejected", "却下"
        COMPLETED = "completed", "処理完了"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "shinsei_citizen_mail"


class ReceivedEvent(models.Model):
    """Kessai notification ids already applied: deliveries are at least once."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shinsei_received_event"
