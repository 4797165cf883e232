"""How amounts, dates and times read on every screen and document people
read, in both services: 1,200円, 2026年12月8日, 2026年12月8日 06:42 (JST).
Machine-read files (CSV columns, JSON) keep ISO 8601 and plain integers."""

import datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def grouped(amount: int | None) -> str:
    """1200 -> "1,200": the number inside a translated sentence (円 or ¥
    comes with the sentence)."""
    return "" if amount is None else f"{int(amount):,}"


def yen(amount: int | None) -> str:
    return "" if amount is None else f"{grouped(amount)}円"


def day(value: datetime.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(JST)
    return f"{value.year}年{value.month}月{value.day}日"


def moment(value: datetime.datetime | None, *, seconds: bool = False) -> str:
    """A point in time to the minute (to the second where the order of
    events within a minute matters: audit records, a payment's timeline)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(JST)
    clock = value.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{day(value)} {clock}"
