import json
import uuid
from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.platform.envelope import data_key_new, data_key_unwrap, data_key_wrap, seal, unseal
from madoguchi.shinsei.procedures.models import FormVersion, Procedure
from madoguchi.shinsei.staff.models import StaffAccount


class Sealed(models.Model):
    """A row with its own data key (wrapped by the KEK; see platform/envelope.py).
    Emptying ``data_key`` destroys it: what was sealed under it never opens again."""

    data_key = models.CharField(max_length=120, blank=True, editable=False)

    class Meta:
        abstract = True

    def key_new(self) -> None:
        key = data_key_new()
        self.data_key = data_key_wrap(key)
        self.__dict__["_plain_key"] = key

    def _key(self) -> bytes:
        key: bytes | None = self.__dict__.get("_plain_key")
        if key is None:
            key = self.__dict__["_plain_key"] = data_key_unwrap(self.data_key)
        return key

    def seal(self, value: bytes, purpose: str) -> bytes:
        return seal(self._key(), value, purpose=purpose)

    def unseal(self, sealed: bytes | memoryview, purpose: str) -> bytes:
        return unseal(self._key(), sealed, purpose=purpose)

    def seal_json(self, value: Any, purpose: str) -> bytes:
        return self.seal(json.dumps(value, ensure_ascii=False).encode(), purpose)

    def unseal_json(self, sealed: bytes | memoryview, purpose: str) -> Any:
        """The decoded value, cached per instance until the sealed bytes change."""
        sealed = bytes(sealed)
        cached = self.__dict__.get(f"_open_{purpose}")
        if cached is not None and cached[0] == sealed:
            return cached[1]
        value = json.loads(self.unseal(sealed, purpose)) if sealed else {}
        self.__dict__[f"_open_{purpose}"] = (sealed, value)
        return value


class Application(Sealed):
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
        PARTIALLY_REFUNDED = "partially_refunded", _("一部返金")
        REFUNDED = "refunded", _("返金済")

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="applications")
    # Null only for rows filed before versions existed.
    form_version = models.ForeignKey(
        FormVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField("整理番号", max_length=20, unique=True)
    inquiry_password = models.CharField(max_length=200)  # keyed hash (older: Argon2id)
    # The answers as JSON, sealed under this application's data key (read
    # ``answers``; write with ``answers_seal``).
    answers_sealed = models.BinaryField("回答（暗号化）", default=b"")
    # The language the citizen applied in: their emails and payment page use it
    # (ja/en).
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
        "決済状況", max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.NOT_REQUIRED
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
    # Yen returned so far (Kessai's figure, applied monotonically) and when the
    # latest refund succeeded.
    refunded_amount = models.PositiveIntegerField("返金額（円）", default=0)
    refunded_at = models.DateTimeField("返金日", null=True, blank=True)
    # Something staff must look at: a payment that arrived after the
    # application was withdrawn or rejected (its refund request is opened).
    attention = models.CharField("要対応", max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # 訴訟・不服申立て等: while set, the retention sweep leaves this application alone.
    legal_hold = models.CharField("法的保留の理由", max_length=200, blank=True)
    legal_hold_at = models.DateTimeField(null=True, blank=True)
    # Set when the retention sweep anonymised it: answers, files, notes gone.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "shinsei_application"
        indexes = [models.Index(fields=["payment_status", "payment_requested_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def answers(self) -> dict[str, Any]:
        if not self.data_key:
            return {}  # anonymised: the key and the answers are gone
        answers: dict[str, Any] = self.unseal_json(self.answers_sealed, "answers")
        return answers

    @answers.setter
    def answers(self, answers: dict[str, Any]) -> None:
        if not self.data_key:
            self.key_new()
        self.answers_seal(answers)

    def answers_seal(self, answers: dict[str, Any]) -> bytes:
        sealed = self.seal_json(answers, "answers")
        self.answers_sealed = sealed
        self.__dict__["_open_answers"] = (sealed, answers)
        return sealed

    @property
    def applicant_name(self) -> str:
        return str(self.answers.get("name", ""))

    @property
    def applicant_email(self) -> str:
        """The answer to the form's first e-mail question: where mail goes."""
        answers = self.answers
        for question in self.questions:
            name = str(question["name"])
            if question["type"] == "email" and answers.get(name):
                return str(answers[name])
        return ""

    @property
    def questions(self) -> list[dict[str, object]]:
        if self.form_version is not None:
            return list(self.form_version.questions)
        return list(self.procedure.form_fields)

    @property
    def can_withdraw(self) -> bool:
        return self.status in STATUS_TRANSITIONS["withdraw"][1]


# The one declared transition table of an application's status: action ->
# (to, allowed from). A status changes only through
# ``services.application_status_move``, a conditional UPDATE over this table
# (tests/shinsei/test_status_transitions.py walks it and checks that no other
# code writes ``status``).
_S = Application.Status
STATUS_TRANSITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accept": (_S.ACCEPTED, (_S.SUBMITTED,)),  # 受理
    "return": (_S.RETURNED, (_S.SUBMITTED,)),  # 差戻し
    "resubmit": (_S.SUBMITTED, (_S.RETURNED,)),  # 再申請
    "reject": (_S.REJECTED, (_S.SUBMITTED, _S.RETURNED)),  # 却下
    "withdraw": (_S.WITHDRAWN, (_S.SUBMITTED, _S.RETURNED)),  # 取下げ
    "complete": (_S.COMPLETED, (_S.ACCEPTED,)),  # 処理完了
}


class ApplicationEvent(models.Model):
    """What happened to an application, by whom (staff key or "citizen")."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    actor = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    # A payment's status as the gateway reported it (contract v1's codes).
    GATEWAY_STATUS_LABELS: ClassVar[dict[str, str]] = {
        "created": "未決済",
        "started": "未決済",
        "succeeded": "決済済",
        "cancelled": "取消",
        "expired": "期限切れ",
        "refunded": "返金済",
    }

    class Meta:
        db_table = "shinsei_application_event"
        ordering = ["at", "id"]

    @property
    def payment_status_label(self) -> str:
        status = str(self.detail.get("status", "")) if isinstance(self.detail, dict) else ""
        return self.GATEWAY_STATUS_LABELS.get(status, "不明")


class ApplicationNote(models.Model):
    """内部メモ: seen by staff only, never by the citizen."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(StaffAccount, on_delete=models.PROTECT, related_name="+")
    # Sealed under the application's data key.
    body_sealed = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shinsei_application_note"
        ordering = ["created_at", "id"]

    @property
    def body(self) -> str:
        return self.application.unseal(self.body_sealed, "note").decode()


class StoredFile(Sealed):
    """An uploaded file. The bytes live in the file storage (files.py), sealed
    under this row's own data key (a file exists before its application
    does); the row is the index and the scan result."""

    class Scan(models.TextChoices):
        CLEAN = "clean", "問題なし"
        INFECTED = "infected", "検出"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    question = models.CharField(max_length=40)
    # The citizen's file name (may name a person), sealed.
    name_sealed = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=100, unique=True)
    scan = models.CharField(max_length=16, choices=Scan.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Unclaimed files are removed after this (hours; a saved draft extends it).
    keep_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = "shinsei_stored_file"

    @property
    def original_name(self) -> str:
        return self.unseal(self.name_sealed, "file-name").decode()


class Draft(Sealed):
    """一時保存: a citizen's unfinished form, reopened with a secret link."""

    token_hash = models.CharField(max_length=64, unique=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    data_sealed = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "shinsei_draft"

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.unseal_json(self.data_sealed, "draft")
        return data


class CitizenMail(models.Model):
    """An email owed to the citizen; sent once by a task (the outbox row)."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "申請受付"
        ACCEPTED = "accepted", "受理"
        PAID = "paid", "決済完了"
        RETURNED = "returned", "差戻し"
        REJECTED = "rejected", "却下"
        COMPLETED = "completed", "処理完了"
        REFUNDED = "refunded", "返金"

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


class RefundRequest(models.Model):
    """還付 (歳出還付 / 歳入戻出): money the agency returns for an application,
    requested by one staff member and approved by another (決裁) before it
    is sent to Kessai. Status moves only through ``refunds.TRANSITIONS``."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "承認待ち"
        DECLINED = "declined", "差戻し（返金しない）"
        APPROVED = "approved", "承認済（送信中）"
        PENDING = "pending", "返金処理中"
        SUCCEEDED = "succeeded", "返金済"
        FAILED = "failed", "返金失敗"

    class Reason(models.TextChoices):
        OVERPAID = "overpaid", "過誤納（金額の誤り）"
        NOT_ISSUED = "not_issued", "交付できなかった"
        DUPLICATE = "duplicate", "二重の納付"
        WITHDRAWN = "withdrawn", "申請の取下げ"
        REJECTED = "rejected", "申請の却下"
        PAID_AFTER_END = "paid_after_end", "取下げ・却下後の入金"
        OTHER = "other", "その他"

    # Why a refund failed, as the gateways report it; any other code reads as
    # the general sentence rather than as the code.
    FAILURE_LABELS: ClassVar[dict[str, str]] = {
        "failed": "決済事業者が返金を受け付けませんでした",
        "refund_amount_mismatch": "返金できる額が変わっていました",
        "refund_amount_unavailable": "返金できる額を超えていました",
        "payment_not_refundable": "返金できない決済でした",
        "payment_not_found": "決済が見つかりませんでした",
    }

    # Goes with the application when its retention period ends (privacy/).
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="refund_requests"
    )
    amount = models.PositiveIntegerField("返金額（円）")
    reason = models.CharField("理由", max_length=20, choices=Reason.choices)
    reason_text = models.TextField("理由の詳細", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    # Null when the system opened it (withdrawal after payment, late payment).
    requested_by = models.ForeignKey(
        StaffAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        StaffAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # What Shinsei told Kessai could still be refunded (the precondition).
    expected_refundable_amount = models.PositiveIntegerField(null=True, blank=True)
    kessai_refund_id = models.CharField(max_length=40, blank=True, db_index=True)
    failure_code = models.CharField(max_length=40, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shinsei_refund_request"
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"refund {self.pk} of {self.application_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFUND_STATUSES

    @classmethod
    def failure_label_of(cls, code: str) -> str:
        return cls.FAILURE_LABELS.get(code, cls.FAILURE_LABELS["failed"]) if code else ""

    @property
    def failure_label(self) -> str:
        return self.failure_label_of(self.failure_code)


OPEN_REFUND_STATUSES = [
    RefundRequest.Status.REQUESTED,
    RefundRequest.Status.APPROVED,
    RefundRequest.Status.PENDING,
]
