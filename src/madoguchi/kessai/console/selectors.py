"""Reads for the console. Two rules hold everywhere here:

- the statistics come only from the incremental summary table
  (``DailySummary``), never from scanning payments, so a dashboard costs the
  same at ten million payments as at ten thousand;
- payment rows are read with ``values()`` over an explicit column list: the
  attempt's card brand and last four never leave the attempts table, and
  Kessai holds no personal data to leak in the first place.
"""

import datetime
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from madoguchi.contract.schemas import PaymentMethod, PaymentStatus
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments.ledger import JST
from madoguchi.kessai.payments.models import (
    Attempt,
    DailySummary,
    Notification,
    NotificationDelivery,
    Payment,
    PaymentEvent,
    Refund,
)
from madoguchi.kessai.statistics.fees import FeeSchedule
from madoguchi.platform import display

METHOD_LABELS = {
    PaymentMethod.CARD.value: "クレジットカード",
    PaymentMethod.PAYPAY.value: "PayPay",
    PaymentMethod.APPLE_PAY.value: "Apple Pay",
}
STATUS_LABELS = {
    PaymentStatus.CREATED.value: "未決済",
    # "started" only says someone opened the page or tried: it stays so when
    # every attempt failed, so it must not read as "being paid".
    PaymentStatus.STARTED.value: "未決済（支払操作あり）",
    PaymentStatus.SUCCEEDED.value: "決済済",
    PaymentStatus.CANCELLED.value: "取消",
    PaymentStatus.EXPIRED.value: "期限切れ",
    PaymentStatus.REFUNDED.value: "返金済",
}
IN_PROGRESS_LABEL = "決済手続中"
ATTEMPT_LABELS = {
    "pending": "処理中",
    "succeeded": "成功",
    "declined": "不成立",
    "failed": "不成立（請求なし）",
    "unknown": "結果を確認中",
    "requires_action": "利用者の操作待ち（本人認証・アプリ承認）",
}
REASON_LABELS = {
    "card_declined": "カード会社が承認しなかった",
    "insufficient_funds": "利用可能額の不足",
    "expired_card": "カードの有効期限切れ",
    "incorrect_cvc": "セキュリティコードの誤り",
    "processing_error": "カード会社の処理エラー",
    "invalid_number": "カード番号の誤り",
    "invalid_cryptogram": "Apple Payの暗号データの誤り",
    "authentication_failed": "本人認証（3-Dセキュア）の失敗",
    "authentication_abandoned": "本人認証（3-Dセキュア）を利用者が中止",
    "authentication_timeout": "本人認証（3-Dセキュア）の時間切れ",
    "paypay_cancelled": "PayPayでの支払いを利用者が中止",
    "paypay_expired": "PayPayの支払いコードの期限切れ",
    "paypay_failed": "PayPayで支払えなかった（残高不足など）",
    "paypay_error": "PayPayに接続できなかった",
    "not_received": "決済代行会社に届かなかった（請求なし）",
}
EVENT_LABELS = {
    "payment.created": "決済の作成",
    "payment.succeeded": "決済完了",
    "payment.attempt_failed": "支払の試行が不成立",
    "payment.cancelled": "取消",
    "payment.expired": "期限切れ",
    # Partial or full is a fact of the refund, not of the event's type: see
    # refund_event_label.
    "payment.refunded": "返金",
    "attempt.started": "支払の試行を開始",
    "attempt.declined": "支払の試行が不成立",
    "attempt.succeeded_after_final": "終了後に成立した支払（取り消します）",
    "attempt.voided": "支払を取り消しました（売上取消）",
    "refund.requested": "返金の依頼",
    "refund.succeeded": "返金完了",
    "refund.failed": "返金の失敗",
}
EVENT_DATA_LABELS = {
    "method": "決済方法",
    "code": "理由",
    "attempt": "試行",
    "amount": "金額",
    "status": "結果",
    "refund": "返金",
    "origin": "経路",
}
NOTIFICATION_LABELS = {"pending": "配信待ち", "delivered": "配信済", "gave_up": "配信を断念"}
REFUND_STATUS_LABELS = {"pending": "返金処理中", "succeeded": "返金済", "failed": "返金失敗"}
ORIGIN_LABELS = {"console": "管理画面", "api": "加盟店（API）"}


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method or "—")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _labelled(labels: dict[str, str], code: str) -> str:
    """A code in plain Japanese; one we have no words for yet is shown as
    「その他（code）」 rather than passed off as a label."""
    if not code:
        return "—"
    return labels.get(code, f"その他（{code}）")


def attempt_label(status: str) -> str:
    return _labelled(ATTEMPT_LABELS, status)


def reason_label(code: str) -> str:
    return _labelled(REASON_LABELS, code)


def event_label(kind: str) -> str:
    return _labelled(EVENT_LABELS, kind)


def notification_label(status: str) -> str:
    return _labelled(NOTIFICATION_LABELS, status)


def refund_status_label(status: str) -> str:
    return _labelled(REFUND_STATUS_LABELS, status)


def refund_event_label(*, refunded_after: int, payment_amount: int) -> str:
    """A refund event named by what it left behind: the payment refunded in
    full (全額返金) or only in part (一部返金)."""
    return "全額返金" if refunded_after >= payment_amount else "一部返金"


def notification_type_label(kind: str, body: str) -> str:
    """A notification's kind; a refund's says partial or full from the
    payment as the notification itself carried it."""
    if kind != "payment.refunded":
        return event_label(kind)
    try:
        payment = json.loads(body)["data"]["payment"]
        refunded_after, amount = int(payment["refunded_amount"]), int(payment["amount"])
    except (ValueError, KeyError, TypeError):
        return event_label(kind)
    return refund_event_label(refunded_after=refunded_after, payment_amount=amount)


def _event_value(key: str, value: Any) -> str:
    if key == "method":
        return method_label(str(value))
    if key == "code":
        return reason_label(str(value))
    if key == "status":
        return ATTEMPT_LABELS.get(str(value), STATUS_LABELS.get(str(value), str(value)))
    if key == "origin":
        return ORIGIN_LABELS.get(str(value), str(value))
    if key == "amount" and isinstance(value, int):
        return f"{value:,}円"
    return str(value)


# ---------------------------------------------------------------- dashboard


@dataclass
class Figures:
    """The figures the finance division books, for one slice of the summaries."""

    succeeded_count: int = 0
    succeeded_amount: int = 0
    refunded_count: int = 0
    refunded_amount: int = 0
    fee: int = 0

    @property
    def net(self) -> int:
        return self.succeeded_amount - self.refunded_amount - self.fee

    def add(self, other: "Figures") -> None:
        self.succeeded_count += other.succeeded_count
        self.succeeded_amount += other.succeeded_amount
        self.refunded_count += other.refunded_count
        self.refunded_amount += other.refunded_amount
        self.fee += other.fee


@dataclass
class Dashboard:
    start: datetime.date
    end: datetime.date  # exclusive
    total: Figures = field(default_factory=Figures)
    by_method: dict[str, Figures] = field(default_factory=dict)
    by_merchant: dict[int, Figures] = field(default_factory=dict)
    by_day: dict[datetime.date, Figures] = field(default_factory=dict)
    by_month: dict[tuple[int, int], Figures] = field(default_factory=dict)
    merchant_names: dict[int, str] = field(default_factory=dict)

    def method_rows(self) -> list[tuple[str, Figures]]:
        return [(method_label(m), f) for m, f in sorted(self.by_method.items())]

    def merchant_rows(self) -> list[tuple[str, Figures]]:
        return [
            (self.merchant_names.get(pk, str(pk)), f) for pk, f in sorted(self.by_merchant.items())
        ]

    def day_rows(self) -> list[tuple[datetime.date, Figures]]:
        days = (self.end - self.start).days
        dates = [self.start + datetime.timedelta(days=i) for i in range(days)]
        return [(d, self.by_day.get(d, Figures())) for d in dates]

    def day_table(self) -> list[tuple[str, Figures]]:
        return [(display.day(d), f) for d, f in self.day_rows()]

    def month_table(self) -> list[tuple[str, Figures]]:
        return [(f"{y}年{m}月", f) for (y, m), f in self.month_rows()]

    def month_rows(self) -> list[tuple[tuple[int, int], Figures]]:
        months = []
        year, month = self.start.year, self.start.month
        while datetime.date(year, month, 1) < self.end:
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return [(m, self.by_month.get(m, Figures())) for m in months]


_SUMS = ("succeeded_count", "succeeded_amount", "refunded_count", "refunded_amount")


def dashboard(
    *,
    start: datetime.date,
    end: datetime.date,
    merchant_id: int | None = None,
    fees: FeeSchedule | None = None,
    groups: tuple[str, ...] = ("method", "merchant", "day", "month"),
) -> Dashboard:
    """Totals over JST days ``start`` ≤ day < ``end``, from the summary rows only
    (at most days × merchants × methods of them, whatever the number of
    payments), summed by the database, fees included."""
    fees = fees or FeeSchedule.load()
    rows = DailySummary.objects.filter(day__gte=start, day__lt=end)
    if merchant_id is not None:
        rows = rows.filter(merchant_id=merchant_id)
    # Aliases differ from the column names: the fee expression reads the columns.
    sums = {f"sum_{name}": Sum(name) for name in _SUMS} | {"sum_fee": Sum(fees.expression())}
    result = Dashboard(start=start, end=end)
    # One query: by day (or by month when only months are asked for), merchant
    # and method, with the fees summed by the database; rolled up here.
    by_month_only = set(groups) <= {"month"}
    period = TruncMonth("day") if by_month_only else F("day")
    query = (
        rows.annotate(period=period)
        .values("period", "merchant_id", "method")
        .annotate(**sums)
        .order_by()
    )
    for row in query:
        values: dict[str, Any] = dict(row)
        figures = Figures(
            succeeded_count=values["sum_succeeded_count"] or 0,
            succeeded_amount=values["sum_succeeded_amount"] or 0,
            refunded_count=values["sum_refunded_count"] or 0,
            refunded_amount=values["sum_refunded_amount"] or 0,
            fee=values["sum_fee"] or 0,
        )
        day: datetime.date = values["period"]
        result.total.add(figures)
        if "method" in groups:
            result.by_method.setdefault(values["method"], Figures()).add(figures)
        if "merchant" in groups:
            result.by_merchant.setdefault(values["merchant_id"], Figures()).add(figures)
        if "day" in groups and not by_month_only:
            result.by_day.setdefault(day, Figures()).add(figures)
        if "month" in groups:
            result.by_month.setdefault((day.year, day.month), Figures()).add(figures)
    if result.by_merchant:
        result.merchant_names = dict(
            Merchant.objects.filter(pk__in=result.by_merchant).values_list("pk", "display_name")
        )
    return result


def today_jst() -> datetime.date:
    return datetime.datetime.now(tz=JST).date()


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def merchants_for_filter() -> list[tuple[int, str]]:
    return list(Merchant.objects.order_by("pk").values_list("pk", "display_name"))


# ---------------------------------------------------------------- transactions

PAYMENT_COLUMNS = (
    "id",
    "public_id",
    "merchant_id",
    "merchant__display_name",
    "reference",
    "amount",
    "status",
    "method",
    "created_at",
    "paid_at",
    "due_at",
    "updated_at",
    "refunded_amount",
)


@dataclass(frozen=True)
class TransactionFilter:
    reference: str = ""
    payment_id: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None  # inclusive
    date_basis: str = "created"  # or "paid"
    status: str = ""
    method: str = ""
    merchant_id: int | None = None

    def as_detail(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "payment_id": self.payment_id,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "date_basis": self.date_basis,
            "status": self.status,
            "method": self.method,
            "merchant_id": self.merchant_id,
        }


def _jst_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=JST)


def transactions(filters: TransactionFilter) -> QuerySet[Payment, dict[str, Any]]:
    """Newest first (by id, which an index serves at any size)."""
    query = Q()
    if filters.reference:
        query &= Q(reference=filters.reference)
    if filters.payment_id:
        query &= Q(public_id=filters.payment_id)
    column = "paid_at" if filters.date_basis == "paid" else "created_at"
    if filters.date_from:
        query &= Q(**{f"{column}__gte": _jst_midnight(filters.date_from)})
    if filters.date_to:
        end = filters.date_to + datetime.timedelta(days=1)
        query &= Q(**{f"{column}__lt": _jst_midnight(end)})
    if filters.status:
        query &= Q(status=filters.status)
    if filters.method:
        query &= Q(method=filters.method)
    if filters.merchant_id is not None:
        query &= Q(merchant_id=filters.merchant_id)
    rows: QuerySet[Payment, dict[str, Any]] = (
        Payment.objects.filter(query).order_by("-id").values(*PAYMENT_COLUMNS)
    )
    return rows


def transactions_page(
    filters: TransactionFilter, *, before: int | None = None, size: int = 50
) -> tuple[list[dict[str, Any]], int | None]:
    """One page by keyset (``id < before``): no OFFSET, no COUNT over millions."""
    rows = transactions(filters)
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows[: size + 1])
    next_before = page[size - 1]["id"] if len(page) > size else None
    return page[:size], next_before


def transaction_rows(filters: TransactionFilter) -> Iterator[dict[str, Any]]:
    """Every matching payment, streamed from a server-side cursor."""
    return transactions(filters).iterator(chunk_size=2000)


@dataclass
class TransactionDetail:
    payment: dict[str, Any]
    attempts: list[dict[str, Any]]
    events: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refundable_amount: int = 0


# Event data keys the console may show: identifiers and codes, nothing else.
_EVENT_KEYS = ("method", "code", "attempt", "amount", "status", "refund", "origin")


def transaction_detail(public_id: str) -> TransactionDetail | None:
    payment: dict[str, Any] | None = (
        Payment.objects.filter(public_id=public_id).values(*PAYMENT_COLUMNS).first()
    )
    if payment is None:
        return None
    attempts = [
        dict(row)
        for row in Attempt.objects.filter(payment_id=payment["id"])
        .order_by("id")
        .values("id", "method", "status", "decline_code", "created_at", "finished_at")
    ]
    events: list[dict[str, Any]] = []
    refunded_so_far = 0
    for event in (
        PaymentEvent.objects.filter(payment_id=payment["id"])
        .order_by("id")
        .values("type", "data", "created_at")
    ):
        data = event["data"] if isinstance(event["data"], dict) else {}
        shown = [(EVENT_DATA_LABELS[k], _event_value(k, data[k])) for k in _EVENT_KEYS if k in data]
        label = event_label(event["type"])
        if event["type"] == "payment.refunded" and isinstance(data.get("amount"), int):
            refunded_so_far += data["amount"]
            label = refund_event_label(
                refunded_after=refunded_so_far, payment_amount=payment["amount"]
            )
        events.append(
            {
                "type": event["type"],
                "label": label,
                "created_at": event["created_at"],
                "shown": shown,
            }
        )
    notifications: list[dict[str, Any]] = [
        dict(row)
        for row in Notification.objects.filter(payment_id=payment["id"])
        .order_by("id")
        .values(
            "id", "event_id", "type", "body", "status", "attempts", "delivered_at", "created_at"
        )
    ]
    for notification in notifications:
        notification["label"] = notification_type_label(
            notification["type"], notification.pop("body")
        )
    deliveries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for delivery in (
        NotificationDelivery.objects.filter(notification_id__in=[n["id"] for n in notifications])
        .order_by("id")
        .values("notification_id", "attempted_at", "response_status", "error", "duration_ms")
    ):
        deliveries[delivery["notification_id"]].append(dict(delivery))
    for notification in notifications:
        notification["deliveries"] = deliveries[notification["id"]]
    if payment["status"] == PaymentStatus.STARTED and any(
        a["status"] in ("pending", "unknown", "requires_action") for a in attempts
    ):
        payment["status_label"] = IN_PROGRESS_LABEL
    else:
        payment["status_label"] = status_label(payment["status"])
    refunds: list[dict[str, Any]] = [
        dict(row)
        for row in Refund.objects.filter(payment_id=payment["id"])
        .order_by("id")
        .values(
            "public_id",
            "amount",
            "status",
            "failure_code",
            "origin",
            "written_request",
            "created_at",
            "succeeded_at",
        )
    ]
    refundable = (
        Payment.objects.only("status", "amount", "refunded_amount", "refund_pending_amount")
        .get(pk=payment["id"])
        .refundable_amount
    )
    return TransactionDetail(
        payment=payment,
        attempts=attempts,
        events=events,
        notifications=notifications,
        refunds=refunds,
        refundable_amount=refundable,
    )


# ---------------------------------------------------------------- operations


def notifications_failed(*, merchant_id: int | None = None) -> list[dict[str, Any]]:
    """Notifications given up on, or still retrying after a failed delivery,
    newest first, each with the answers its deliveries got."""
    rows = Notification.objects.filter(
        Q(status=Notification.Status.GAVE_UP)
        | Q(status=Notification.Status.PENDING, attempts__gt=0)
    )
    if merchant_id is not None:
        rows = rows.filter(merchant_id=merchant_id)
    notifications: list[dict[str, Any]] = [
        dict(n)
        for n in rows.order_by("-id").values(
            "id",
            "event_id",
            "type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "merchant__display_name",
            "payment__public_id",
            "payment__reference",
            "body",
        )[:200]
    ]
    for notification in notifications:
        notification["label"] = notification_type_label(
            notification["type"], notification.pop("body")
        )
    deliveries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for delivery in (
        NotificationDelivery.objects.filter(notification_id__in=[n["id"] for n in notifications])
        .order_by("-id")
        .values("notification_id", "attempted_at", "response_status", "error")
    ):
        deliveries[delivery["notification_id"]].append(dict(delivery))
    for notification in notifications:
        notification["deliveries"] = deliveries[notification["id"]][:5]
    return notifications


REFUND_REGISTER_COLUMNS = (
    "succeeded_at",
    "payment__merchant__display_name",
    "payment__reference",
    "payment__public_id",
    "public_id",
    "payment__method",
    "payment__amount",
    "amount",
    "origin",
    "written_request",
)


def refund_register(
    *, start: datetime.date, end: datetime.date, merchant_id: int | None = None
) -> QuerySet[Refund, dict[str, Any]]:
    """還付一覧: refunds that succeeded on JST days ``start`` … ``end - 1``,
    the day the dashboards count them, oldest first."""
    rows = Refund.objects.filter(
        status=Refund.Status.SUCCEEDED,
        succeeded_at__gte=_jst_midnight(start),
        succeeded_at__lt=_jst_midnight(end),
    )
    if merchant_id is not None:
        rows = rows.filter(payment__merchant_id=merchant_id)
    register: QuerySet[Refund, dict[str, Any]] = rows.order_by("succeeded_at", "id").values(
        *REFUND_REGISTER_COLUMNS
    )
    return register
