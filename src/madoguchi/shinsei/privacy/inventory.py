"""個人情報ファイル簿: every table and file store, every field, classified.

The registry below is the single source: the administrators' page and
docs/personal-data-inventory.md are generated from it and from the
procedures' settings, and ``inventory_unclassified`` (run by a test) names
any field of an installed model that is missing here, so a new field cannot
go unclassified. Kessai's tables are listed too, when Kessai is installed
(the test process installs both): they hold no citizen's personal data.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Model

# Field classes.
NONE = "-"  # not personal data
CITIZEN = "市民の個人情報（平文）"
SEALED = "市民の個人情報（AES-256-GCMで暗号化）"
KEY = "データ鍵（鍵暗号化鍵でラップ）"
STAFF = "職員の情報"
SECRET = "認証情報（ハッシュ・秘密）"  # noqa: S105 - a label, not a password
PSEUDONYM = "整理番号（単独では個人を識別しない）"
ADDRESS = "接続元IPアドレスまたはログインID"

RETENTION_APPLICATION = "手続ごとの保存期間（申請の終了から）経過後に削除または匿名化"
WHO_STAFF = "所管課の職員、同じ実施機関の審査担当・管理者"
WHO_ADMIN = "同じ実施機関の管理者"


@dataclass(frozen=True)
class Table:
    purpose: str
    retention: str
    access: str
    fields: dict[str, str] = field(default_factory=dict)
    store: str = "データベース"


def _none(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, NONE)


_ACCOUNT = {
    **_none("id", "is_active", "password_changed_at", "must_change_password"),
    **_none("last_login", "created_at", "role", "is_superuser"),
    "login_id": STAFF,
    "display_name": STAFF,
    "password": SECRET,
    "password_history": SECRET,
}
# The second factor's devices (django-otp, platform/otp.py): the TOTP secret
# and the hashes of the recovery codes.
_DEVICE = _none(
    "id",
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
)
_SECOND_FACTOR = {
    "TOTPDevice": {**_DEVICE, "key": SECRET, "last_t": NONE},
    "RecoveryDevice": _DEVICE,
    "RecoveryToken": {**_none("id", "device_id"), "token": SECRET},
}

REGISTRY: dict[str, Table] = {
    "shinsei_applications.Application": Table(
        purpose="申請の審査・手数料の請求・申請者への連絡（各手続の利用目的）",
        retention=RETENTION_APPLICATION,
        access=WHO_STAFF + "；申請者本人（整理番号とパスワード）",
        fields={
            **_none("id", "procedure_id", "form_version_id", "status", "fee_amount"),
            **_none("submitted_at", "resubmitted_at", "accepted_at", "decided_at"),
            **_none("payment_status", "payment_due_at", "payment_requested_at"),
            **_none("payment_checked_at", "kessai_payment_id", "payment_method", "paid_at"),
            **_none("updated_at", "legal_hold_at", "anonymised_at", "payment_gateway"),
            **_none("refunded_amount", "refunded_at", "attention", "language"),
            "reference": PSEUDONYM,
            "data_key": KEY,
            "answers_sealed": SEALED,
            "inquiry_password": SECRET,
            "reason": CITIZEN,
            "legal_hold": NONE,
            "accepted_by_id": STAFF,
            "decided_by_id": STAFF,
        },
    ),
    "shinsei_applications.ApplicationEvent": Table(
        purpose="申請の経過の記録",
        retention="申請と同じ（匿名化では種類と日時のみ残る）",
        access=WHO_STAFF,
        fields={**_none("id", "application_id", "type", "at"), "actor": STAFF, "detail": CITIZEN},
    ),
    "shinsei_applications.ApplicationNote": Table(
        purpose="職員の内部メモ",
        retention="申請と同じ",
        access=WHO_STAFF,
        fields={
            **_none("id", "application_id", "created_at"),
            "author_id": STAFF,
            "body_sealed": SEALED,
        },
    ),
    "shinsei_applications.StoredFile": Table(
        purpose="申請に添付された書類",
        retention="申請と同じ；申請されなかったものは数時間（一時保存は期限まで）",
        access=WHO_STAFF,
        fields={
            **_none("id", "procedure_id", "application_id", "question", "content_type", "size"),
            **_none("sha256", "storage_name", "scan", "created_at", "keep_until"),
            "data_key": KEY,
            "name_sealed": SEALED,
        },
    ),
    "shinsei_applications.Draft": Table(
        purpose="一時保存（申請者が後で再開するため）",
        retention="保存から30日（SHINSEI_DRAFT_DAYS）",
        access="リンクを持つ申請者のみ",
        fields={
            **_none("id", "procedure_id", "form_version_id", "created_at", "expires_at"),
            "token_hash": SECRET,
            "data_key": KEY,
            "data_sealed": SEALED,
        },
    ),
    "shinsei_applications.CitizenMail": Table(
        purpose="申請者へのメール送信（本文は保存せず送信時に作成）",
        retention="申請と同じ",
        access=WHO_STAFF,
        fields=_none("id", "application_id", "kind", "created_at", "sent_at"),
    ),
    "shinsei_applications.RefundRequest": Table(
        purpose="手数料の還付（歳出還付・歳入戻出）の申請・決裁・送金の記録",
        retention="申請と同じ（匿名化では金額・理由の区分・日時のみ残る）",
        access=WHO_STAFF,
        fields={
            **_none("id", "application_id", "amount", "reason", "status", "requested_at"),
            **_none("decided_at", "expected_refundable_amount", "kessai_refund_id"),
            **_none("failure_code", "succeeded_at", "updated_at"),
            "reason_text": CITIZEN,
            "decision_note": CITIZEN,
            "requested_by_id": STAFF,
            "decided_by_id": STAFF,
        },
    ),
    "shinsei_applications.ReceivedEvent": Table(
        purpose="オンライン決済システムからの通知の重複排除",
        retention="無期限（個人情報を含まない）",
        access="なし（システムのみ）",
        fields=_none("id", "event_id", "type", "received_at"),
    ),
    "shinsei_privacy.RetentionReport": Table(
        purpose="保存期間経過による削除・匿名化の記録",
        retention="無期限（整理番号と件数のみ）",
        access=WHO_ADMIN,
        fields={
            **_none("id", "ran_at", "performed_by", "deleted", "anonymised"),
            "lines": PSEUDONYM,
            "held": PSEUDONYM,
        },
    ),
    "shinsei_procedures.Agency": Table(
        purpose="実施機関と決済の資格情報",
        retention="無期限",
        access=WHO_ADMIN,
        fields={
            **_none("id", "code", "name", "staff_totp_required", "payment_gateway"),
            **_none("sbps_merchant_id", "sbps_service_id", "sbps_hash_encoding"),
            "sbps_hash_key": SECRET,
            "kessai_api_key": SECRET,
            "kessai_notification_secrets": SECRET,
        },
    ),
    "shinsei_sbps_link.SbpsResult": Table(
        purpose="SBPS（リンク型）の購入結果の記録と重複排除",
        retention="申請と同じ（申請の削除で削除）",
        access="なし（システムのみ）",
        fields={
            **_none("id", "application_id", "source", "hashcode", "res_result"),
            **_none("res_pay_method", "res_tracking_id", "res_payment_date", "res_err_code"),
            **_none("received_at"),
            "order_id": PSEUDONYM,
        },
    ),
    "shinsei_procedures.Department": Table(
        purpose="手続所管課",
        retention="無期限",
        access=WHO_ADMIN,
        fields=_none("id", "agency_id", "code", "name"),
    ),
    "shinsei_procedures.Procedure": Table(
        purpose="手続の定義（質問、手数料、利用目的、保存期間）",
        retention="無期限",
        access="公開（質問と利用目的）",
        fields=_none(
            "id",
            "department_id",
            "slug",
            "name",
            "description",
            "fee_kind",
            "fee_amount",
            "quantity_field",
            "payment_timing",
            "form_fields",
            "purpose",
            "privacy_notice",
            "retention_years",
            "retention_action",
            "is_published",
            "published_from",
            "published_until",
        ),
    ),
    "shinsei_procedures.FormVersion": Table(
        purpose="申請時の質問・利用目的・通知文の版",
        retention="無期限",
        access="公開",
        fields={
            **_none("id", "procedure_id", "number", "questions", "purpose"),
            **_none("privacy_notice", "created_at"),
            "created_by": STAFF,
        },
    ),
    "shinsei_staff.StaffAccount": Table(
        purpose="職員の認証と権限",
        retention="在職中（異動・退職で無効化）",
        access=WHO_ADMIN,
        fields={**_ACCOUNT, "department_id": NONE},
    ),
    **{
        f"shinsei_staff.Staff{name}": Table(
            purpose="職員の二要素認証",
            retention="在職中（再設定・退職で削除）",
            access=WHO_ADMIN,
            fields=fields,
        )
        for name, fields in _SECOND_FACTOR.items()
    },
    "platform_sessions.Session": Table(
        purpose="ログインと入力途中の申請（申請者の入力内容を含む）",
        retention="最長2時間；期限切れは定期的に削除",
        access="なし（本人のブラウザのみ）",
        fields={
            "session_key": SECRET,
            "session_data": CITIZEN,
            "expire_date": NONE,
            "account_key": STAFF,
        },
    ),
    "sessions.Session": Table(
        purpose="未使用（Django標準のセッション表）",
        retention="—",
        access="なし",
        fields={"session_key": SECRET, "session_data": CITIZEN, "expire_date": NONE},
    ),
    "django_tasks_database.DBTaskResult": Table(
        purpose="非同期処理の待ち行列（申請のIDのみ、個人情報は渡さない）",
        retention="処理後に整理；申請の削除時にその申請の行も削除",
        access="なし（システムのみ）",
        fields=_none(
            "id",
            "status",
            "enqueued_at",
            "started_at",
            "finished_at",
            "args_kwargs",
            "priority",
            "task_path",
            "worker_ids",
            "queue_name",
            "backend_name",
            "run_after",
            "return_value",
            "exception_class_path",
            "traceback",
        ),
    ),
    "platform_audit.AuditRecord": Table(
        purpose="職員・管理者の操作の監査記録（改ざん検知の連鎖）",
        retention="無期限（整理番号と職員IDのみ）",
        access=WHO_ADMIN,
        fields={
            **_none("id", "occurred_at", "event", "outcome", "previous_hash"),
            **_none("record_hash"),
            "actor": STAFF,
            "origin": STAFF,
            "resource": PSEUDONYM,
            "detail": PSEUDONYM,
        },
    ),
    # Django's auth, content types and admin (each service's own tables).
    "contenttypes.ContentType": Table(
        purpose="モデルの一覧（権限と運用管理画面のため）",
        retention="無期限",
        access="なし（システムのみ）",
        fields=_none("id", "app_label", "model"),
    ),
    "auth.Permission": Table(
        purpose="権限の定義",
        retention="無期限",
        access="なし（システムのみ）",
        fields=_none("id", "name", "content_type_id", "codename"),
    ),
    "auth.Group": Table(
        purpose="権限のグループ（未使用：役割は職員の権限欄）",
        retention="無期限",
        access=WHO_ADMIN,
        fields=_none("id", "name"),
    ),
    "admin.LogEntry": Table(
        purpose="運用管理画面での変更の記録（閲覧専用のため書かれない）",
        retention="無期限",
        access=WHO_ADMIN,
        fields={
            **_none("id", "action_time", "content_type_id", "object_id", "action_flag"),
            "user_id": STAFF,
            "object_repr": PSEUDONYM,
            "change_message": PSEUDONYM,
        },
    ),
    "madoguchi_platform.ScheduledJob": Table(
        purpose="定期処理の実行管理（二重実行の防止、最後の実行結果）",
        retention="常時（処理ごとに1行）",
        access="なし（システムのみ）",
        fields=_none(
            "id",
            "name",
            "next_run_at",
            "lease_until",
            "lease_owner",
            "last_started_at",
            "last_finished_at",
            "last_duration_ms",
            "last_ok",
            "last_error",
        ),
    ),
    "madoguchi_platform.Heartbeat": Table(
        purpose="ワーカー・スケジューラの稼働確認（/readyz、停止したワーカーのタスクの回収）",
        retention="1日",
        access="なし（システムのみ）",
        fields=_none("id", "name", "kind", "host", "pid", "started_at", "seen_at"),
    ),
}

# The file stores outside the database.
FILE_STORES: dict[str, Table] = {
    "shinsei_files（アップロードされたファイル）": Table(
        purpose="申請に添付された書類の内容",
        retention="StoredFile と同じ",
        access=WHO_STAFF,
        store="Django storage: ファイルシステム（0600）または S3 互換ストレージ",
        fields={"ファイルの内容": SEALED},
    ),
    "var/mail（埋め込み構成のメール出力）": Table(
        purpose="送信したメールの写し（madoguchi up のみ；本番は SMTP で保存しない）",
        retention="申請と同じ（保存期間による削除・匿名化で、その申請者へのメールの写しも削除）",
        access="サーバー管理者",
        store="ファイルシステム（0600）",
        fields={"メール本文（氏名・整理番号・リンク）": CITIZEN},
    ),
}

# Kessai never receives personal data (docs/privacy.md): every field of its
# tables is classified as not personal, except its own administrators' accounts.
_KESSAI: dict[str, list[str]] = {
    "kessai_merchants.Merchant": [
        "id",
        "code",
        "display_name",
        "notification_url",
        "notification_secret",
        "previous_notification_secret",
        "is_active",
        "created_at",
        "card_connector",
        "sbps_merchant_id",
        "sbps_service_id",
        "sbps_hash_key",
    ],
    "kessai_merchants.ApiKey": [
        "id",
        "merchant_id",
        "prefix",
        "key_hash",
        "created_at",
        "revoked_at",
    ],
    "kessai_payments.Payment": [
        "id",
        "public_id",
        "merchant_id",
        "reference",
        "amount",
        "return_url",
        "language",
        "status",
        "method",
        "paid_at",
        "due_at",
        "refunded_amount",
        "refund_pending_amount",
        "created_at",
        "updated_at",
    ],
    "kessai_payments.Attempt": [
        "id",
        "payment_id",
        "method",
        "status",
        "decline_code",
        "provider_reference",
        "card_brand",
        "card_last4",
        "eci",
        "three_ds",
        "action_url",
        "action_deeplink",
        "action_expires_at",
        "created_at",
        "finished_at",
    ],
    "kessai_payments.Refund": [
        "id",
        "public_id",
        "payment_id",
        "attempt_id",
        "amount",
        "status",
        "failure_code",
        "provider_reference",
        "origin",
        "written_request",
        "created_at",
        "succeeded_at",
        "finished_at",
    ],
    "kessai_payments.ApplePayTransaction": ["id", "transaction_id", "seen_at"],
    "kessai_payments.PaymentEvent": ["id", "payment_id", "type", "data", "created_at"],
    "kessai_payments.IdempotencyRecord": [
        "id",
        "merchant_id",
        "key",
        "request_hash",
        "response_status",
        "response_body",
        "created_at",
    ],
    "kessai_payments.CheckoutToken": ["id", "payment_id", "token_hash", "expires_at", "used_at"],
    "kessai_payments.Notification": [
        "id",
        "event_id",
        "merchant_id",
        "payment_id",
        "type",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ],
    "kessai_payments.NotificationDelivery": [
        "id",
        "notification_id",
        "attempted_at",
        "response_status",
        "error",
        "duration_ms",
    ],
    "kessai_payments.DailySummary": [
        "id",
        "day",
        "merchant_id",
        "method",
        "succeeded_count",
        "succeeded_amount",
        "refunded_count",
        "refunded_amount",
    ],
    "kessai_statistics.FeeRate": [
        "id",
        "method",
        "effective_from",
        "percent",
        "fixed_yen",
        "created_at",
        "created_by",
    ],
    "kessai_history.ContractEnd": [
        "id",
        "merchant_id",
        "merchant_code",
        "merchant_name",
        "ended_at",
        "ended_by",
        "retain_until",
        "purged_at",
    ],
    "kessai_history.PaymentHistory": [
        "id",
        "contract_end_id",
        "payment_id",
        "reference",
        "amount",
        "method",
        "status",
        "created_at",
        "paid_at",
        "due_at",
        "updated_at",
    ],
    "kessai_history.DeletionReport": [
        "id",
        "kind",
        "merchant_code",
        "merchant_name",
        "performed_at",
        "performed_by",
        "deleted",
        "kept",
        "retain_until",
    ],
}
for _label, _names in _KESSAI.items():
    REGISTRY[_label] = Table(
        purpose="オンライン決済（市民の個人情報を含まない）",
        retention="契約終了後の保存期間まで（Kessai の削除報告）",
        access="決済管理者",
        fields=_none(*_names),
    )
REGISTRY["kessai_console.ConsoleAccount"] = Table(
    purpose="決済管理者の認証（市民の個人情報を含まない）",
    retention="在職中",
    access="決済管理者",
    fields=dict(_ACCOUNT),
)
for _name, _fields in _SECOND_FACTOR.items():
    REGISTRY[f"kessai_console.Console{_name}"] = Table(
        purpose="決済管理者の二要素認証",
        retention="在職中（再設定・退職で削除）",
        access="決済管理者",
        fields=_fields,
    )


def _models() -> list[type[Model]]:
    return [m for m in apps.get_models() if not m._meta.proxy]


def inventory_unclassified(models: list[type[Model]] | None = None) -> list[str]:
    """``app.Model.field`` for every installed field the registry misses."""
    missing = []
    for model in models if models is not None else _models():
        table = REGISTRY.get(model._meta.label)
        for model_field in model._meta.concrete_fields:
            if table is None or model_field.attname not in table.fields:
                missing.append(f"{model._meta.label}.{model_field.attname}")
    return missing


@dataclass(frozen=True)
class Row:
    name: str
    store: str
    purpose: str
    retention: str
    access: str
    fields: list[tuple[str, str]]


def inventory_rows() -> list[Row]:
    """What the page and the document list: the installed tables holding
    anything but unclassified-as-personal fields first, then the file stores."""
    rows = []
    for model in _models():
        table = REGISTRY[model._meta.label]
        personal = [(name, kind) for name, kind in table.fields.items() if kind != NONE]
        rows.append(
            Row(
                name=f"{model._meta.db_table}（{model._meta.verbose_name}）",
                store=table.store,
                purpose=table.purpose,
                retention=table.retention,
                access=table.access,
                fields=personal,
            )
        )
    rows.sort(key=lambda r: (not r.fields, r.name))
    for name, table in FILE_STORES.items():
        rows.append(
            Row(
                name,
                table.store,
                table.purpose,
                table.retention,
                table.access,
                list(table.fields.items()),
            )
        )
    return rows


def inventory_markdown(procedures: list[tuple[str, str, str, str]]) -> str:
    """The document: ``procedures`` are (name, 利用目的, 保存期間, 経過後) rows."""
    lines = [
        "# 個人情報ファイル簿（Shinsei）",
        "",
        "Generated from `src/madoguchi/shinsei/privacy/inventory.py` and the demo",
        "procedures' settings, with both services installed (as the tests run them):",
        "`MADOGUCHI_REGENERATE_DOCS=1 uv run pytest tests/shinsei/test_privacy_settings.py`.",
        "A test fails when it is stale or when a model field is unclassified. A running",
        "Shinsei shows the same for its own procedures on 個人情報の管理, and",
        "`madoguchi shinsei privacy_inventory` prints it.",
        "",
        "## 手続ごとの利用目的と保存期間",
        "",
        "| 手続 | 利用目的 | 保存期間（終了から） | 経過後 |",
        "|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(_cell(c) for c in row)} |" for row in procedures]
    lines += ["", "## 表とファイル", ""]
    for row in inventory_rows():
        lines += [
            f"### {row.name}",
            "",
            f"- 保存場所: {row.store}",
            f"- 利用目的: {row.purpose}",
            f"- 保存期間: {row.retention}",
            f"- 閲覧できる者: {row.access}",
        ]
        if row.fields:
            lines.append("- 個人に関わる項目: " + "、".join(f"`{n}`（{k}）" for n, k in row.fields))
        else:
            lines.append("- 個人に関わる項目: なし")
        lines.append("")
    return "\n".join(lines)


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "｜") or "—"


def inventory_document() -> str:
    """The document for the procedures now configured."""
    from madoguchi.shinsei.procedures.models import Procedure

    procedures = [
        (p.name, p.purpose, p.get_retention_years_display(), p.get_retention_action_display())
        for p in Procedure.objects.order_by("department__agency_id", "department_id", "id")
    ]
    return inventory_markdown(procedures)
