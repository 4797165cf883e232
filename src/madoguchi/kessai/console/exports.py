"""CSV exports, streamed in constant memory: rows come from a server-side
cursor (``iterator()``) and leave as soon as a batch is formatted."""

import csv
import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from madoguchi.kessai.payments.ledger import JST
from madoguchi.kessai.payments.models import DailySummary
from madoguchi.kessai.statistics.fees import FeeSchedule
from madoguchi.platform.csv_cells import csv_row

from .selectors import TransactionFilter, method_label, status_label, transaction_rows

BOM = "\ufeff"
BATCH = 500


class _Echo:
    def write(self, value: str) -> str:
        return value


def jst_text(moment: datetime.datetime | None) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def encode_csv(
    header: list[str], rows: Iterable[Iterable[Any]], *, encoding: str
) -> Iterator[bytes]:
    """UTF-8 with BOM (Excel opens it as UTF-8), or Shift_JIS (as cp932, what
    Windows calls Shift_JIS) on request."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    codec = "cp932" if encoding == "shift_jis" else "utf-8"
    prefix = "" if codec == "cp932" else BOM
    yield (prefix + writer.writerow(csv_row(header))).encode(codec, errors="replace")
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(csv_row(row)))
        if len(batch) >= BATCH:
            yield "".join(batch).encode(codec, errors="replace")
            batch.clear()
    if batch:
        yield "".join(batch).encode(codec, errors="replace")


TRANSACTION_HEADER = [
    "決済ID",
    "加盟店",
    "整理番号",
    "金額",
    "状態",
    "決済方法",
    "受付日時",
    "決済日時",
    "支払期限",
    "更新日時",
]


def transaction_csv_rows(filters: TransactionFilter) -> Iterator[list[Any]]:
    for p in transaction_rows(filters):
        yield [
            p["public_id"],
            p["merchant__display_name"],
            p["reference"],
            p["amount"],
            status_label(p["status"]),
            method_label(p["method"]) if p["method"] else "",
            jst_text(p["created_at"]),
            jst_text(p["paid_at"]),
            jst_text(p["due_at"]),
            jst_text(p["updated_at"]),
        ]


SUMMARY_HEADER = [
    "加盟店",
    "決済方法",
    "決済件数",
    "決済金額",
    "返金件数",
    "返金額",
    "決済手数料",
    "差引額",
]


def _summary_rows(
    start: datetime.date | None, end: datetime.date | None
) -> Iterator[tuple[datetime.date, str, str, int, int, int, int, int]]:
    fees = FeeSchedule.load()
    rows = DailySummary.objects.all()
    if start:
        rows = rows.filter(day__gte=start)
    if end:
        rows = rows.filter(day__lte=end)
    for day, merchant, method, s_count, s_amount, r_count, r_amount in (
        rows.order_by("day", "merchant_id", "method")
        .values_list(
            "day",
            "merchant__display_name",
            "method",
            "succeeded_count",
            "succeeded_amount",
            "refunded_count",
            "refunded_amount",
        )
        .iterator(chunk_size=2000)
    ):
        fee = fees.fee(method=method, day=day, amount=s_amount, count=s_count)
        yield day, merchant, method, s_count, s_amount, r_count, r_amount, fee


def daily_csv_rows(start: datetime.date | None, end: datetime.date | None) -> Iterator[list[Any]]:
    for day, merchant, method, s_count, s_amount, r_count, r_amount, fee in _summary_rows(
        start, end
    ):
        net = s_amount - r_amount - fee
        yield [
            day.isoformat(),
            merchant,
            method_label(method),
            s_count,
            s_amount,
            r_count,
            r_amount,
            fee,
            net,
        ]


def monthly_csv_rows(start: datetime.date | None, end: datetime.date | None) -> Iterator[list[Any]]:
    """Daily rows come ordered by day, so one month is complete when the next
    begins: memory holds one month's merchants × methods, never more."""
    current: str | None = None
    month: dict[tuple[str, str], list[int]] = {}

    for day, merchant, method, *numbers in _summary_rows(start, end):
        key = f"{day.year:04d}-{day.month:02d}"
        if key != current:
            yield from _month_rows(current, month)
            current, month = key, {}
        totals = month.setdefault((merchant, method), [0, 0, 0, 0, 0])
        for i, value in enumerate(numbers):
            totals[i] += value
    yield from _month_rows(current, month)


def _month_rows(
    current: str | None, month: dict[tuple[str, str], list[int]]
) -> Iterator[list[Any]]:
    for (merchant, method), (s_count, s_amount, r_count, r_amount, fee) in sorted(month.items()):
        yield [
            current,
            merchant,
            method_label(method),
            s_count,
            s_amount,
            r_count,
            r_amount,
            fee,
            s_amount - r_amount - fee,
        ]


REFUND_REGISTER_HEADER = [
    "返金日時",
    "加盟店",
    "整理番号",
    "決済ID",
    "返金ID",
    "決済方法",
    "決済金額",
    "返金額",
    "経路",
    "依頼文書",
]
ORIGIN_LABELS = {"api": "加盟店（API）", "console": "管理画面（依頼文書）"}


def refund_register_rows(rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    for r in rows:
        yield [
            jst_text(r["succeeded_at"]),
            r["payment__merchant__display_name"],
            r["payment__reference"],
            r["payment__public_id"],
            r["public_id"],
            method_label(r["payment__method"]),
            r["payment__amount"],
            r["amount"],
            ORIGIN_LABELS.get(r["origin"], r["origin"]),
            r["written_request"],
        ]
