"""Every dashboard figure equals a recomputation from the raw payments and
refunds, for random payments and (partial, failed) refunds made through the
real refund services at times around JST midnight and month ends; the refund
register (還付一覧) lists exactly the refunds the figures count."""

import datetime
from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.kessai.console import selectors
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import DailySummary, Payment, Refund
from madoguchi.kessai.providers.base import RefundResult
from madoguchi.kessai.statistics.models import FeeRate
from tests.kessai.console.conftest import make_payment, succeed_at

JST = ZoneInfo("Asia/Tokyo")
UTC = datetime.UTC
# JST midnights where a day, a month or a year turns, and a rate changes.
ANCHORS = [
    datetime.datetime(2026, 1, 1, tzinfo=JST),
    datetime.datetime(2026, 2, 1, tzinfo=JST),
    datetime.datetime(2026, 3, 1, tzinfo=JST),
    datetime.datetime(2026, 12, 1, tzinfo=JST),
    datetime.datetime(2027, 1, 1, tzinfo=JST),
]
RATES = [
    ("card", datetime.date(2025, 12, 1), Decimal("3.240"), 0),
    ("card", datetime.date(2026, 3, 1), Decimal("2.950"), 10),
    ("paypay", datetime.date(2026, 2, 1), Decimal("1.980"), 0),
    ("apple_pay", datetime.date(2026, 12, 1), Decimal("3.600"), 5),
]
METHODS = ["card", "paypay", "apple_pay"]


moments = st.builds(
    lambda anchor, seconds: anchor + datetime.timedelta(seconds=seconds),
    st.sampled_from(ANCHORS),
    st.integers(min_value=-3 * 3600, max_value=3 * 3600),
)
payment_specs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=1),  # merchant
        st.integers(min_value=1, max_value=9_999_999),  # amount
        st.sampled_from(METHODS),
        moments,
        st.one_of(st.none(), st.integers(min_value=0, max_value=4 * 86400)),  # refunded after
        st.integers(min_value=1, max_value=100),  # refunded percent
        st.booleans(),  # paid (or left unpaid: must not count)
        st.sampled_from(["succeeded", "failed", "succeeded_twice"]),  # refund outcome
    ),
    min_size=1,
    max_size=8,
)


def rate_on(method: str, day: datetime.date) -> tuple[Decimal, int] | None:
    applicable = [r for r in RATES if r[0] == method and r[1] <= day]
    if not applicable:
        return None
    _, _, percent, fixed = max(applicable, key=lambda r: r[1])
    return percent, fixed


def recompute() -> dict[tuple[datetime.date, int, str], list[int]]:
    """Independent of the summary table: the raw payments and refunds."""
    cells: dict[tuple[datetime.date, int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    # A payment refunded in full still succeeded on its day.
    for p in Payment.objects.filter(status__in=["succeeded", "refunded"]):
        assert p.paid_at is not None
        cell = cells[(p.paid_at.astimezone(JST).date(), p.merchant_id, p.method)]
        cell[0] += 1
        cell[1] += p.amount
    for r in Refund.objects.filter(status="succeeded").select_related("payment"):
        assert r.succeeded_at is not None
        day = r.succeeded_at.astimezone(JST).date()
        cell = cells[(day, r.payment.merchant_id, r.payment.method)]
        cell[2] += 1
        cell[3] += r.amount
    return cells


def expected(
    cells: dict[tuple[datetime.date, int, str], list[int]],
    keep: Any,
    key: Any,
) -> dict[Any, tuple[int, int, int, int, int]]:
    out: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (day, merchant, method), (sc, sa, rc, ra) in cells.items():
        if not keep(day):
            continue
        rate = rate_on(method, day)
        fee = 0
        if rate and sc:
            fee = int((Decimal(sa) * rate[0] / 100).to_integral_value(ROUND_FLOOR)) + rate[1] * sc
        total = out[key(day, merchant, method)]
        for i, value in enumerate((sc, sa, rc, ra, fee)):
            total[i] += value
    return {k: tuple(v) for k, v in out.items()}  # type: ignore[misc]


def as_tuple(f: selectors.Figures) -> tuple[int, int, int, int, int]:
    return (f.succeeded_count, f.succeeded_amount, f.refunded_count, f.refunded_amount, f.fee)


def check_range(
    cells: dict[tuple[datetime.date, int, str], list[int]],
    start: datetime.date,
    end: datetime.date,
) -> None:
    board = selectors.dashboard(start=start, end=end)

    def keep(day: datetime.date) -> bool:
        return start <= day < end

    by_method = expected(cells, keep, lambda d, m, k: k)
    by_merchant = expected(cells, keep, lambda d, m, k: m)
    by_day = expected(cells, keep, lambda d, m, k: d)
    by_month = expected(cells, keep, lambda d, m, k: (d.year, d.month))
    total = expected(cells, keep, lambda d, m, k: "all").get("all", (0, 0, 0, 0, 0))
    assert {k: as_tuple(v) for k, v in board.by_method.items()} == by_method
    assert {k: as_tuple(v) for k, v in board.by_merchant.items()} == by_merchant
    assert {k: as_tuple(v) for k, v in board.by_day.items()} == by_day
    assert {k: as_tuple(v) for k, v in board.by_month.items()} == by_month
    assert as_tuple(board.total) == total
    assert board.total.net == total[1] - total[3] - total[4]
    # The month chart's query sums whole months in the database
    months_only = selectors.dashboard(start=start, end=end, groups=("month",))
    assert {k: as_tuple(v) for k, v in months_only.by_month.items()} == by_month
    assert as_tuple(months_only.total) == total
    # The refund register of the same range lists exactly what is counted.
    register = list(selectors.refund_register(start=start, end=end))
    assert (len(register), sum(r["amount"] for r in register)) == (total[2], total[3])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=payment_specs)
def test_dashboard_equals_recomputation_from_raw_payments(
    merchants: list[Merchant], admin: Client, specs: list[Any]
) -> None:
    # Given: fee rates with effective dates, and random payments and refunds
    Refund.objects.all().delete()
    Payment.objects.all().delete()
    DailySummary.objects.all().delete()
    FeeRate.objects.all().delete()
    for method, day, percent, fixed in RATES:
        FeeRate.objects.create(method=method, effective_from=day, percent=percent, fixed_yen=fixed)
    for spec in specs:
        merchant_index, amount, method, paid_at, refund_after, percent, paid, outcome = spec
        payment = make_payment(merchants[merchant_index], amount)
        if not paid:
            continue  # created but never paid: counts nowhere
        succeed_at(payment, paid_at, method=method)
        if refund_after is not None:
            at = paid_at + datetime.timedelta(seconds=refund_after)
            refund_at(payment, max(amount * percent // 100, 1), at, outcome != "failed")
            if outcome == "succeeded_twice":  # a second, partial refund a day later
                refund_at(payment, 1, at + datetime.timedelta(days=1), True)
    cells = recompute()

    # Then: every day and month the payments touch, and a year around them
    days = {day for day, _, _ in cells}
    for day in days:
        check_range(cells, day, day + datetime.timedelta(days=1))
        month = day.replace(day=1)
        check_range(cells, month, selectors.add_months(month, 1))
    check_range(cells, datetime.date(2025, 12, 1), datetime.date(2027, 2, 1))

    # and the month page shows the month's net amount
    day = min(days, default=datetime.date(2026, 1, 1))
    board = selectors.dashboard(
        start=day.replace(day=1), end=selectors.add_months(day.replace(day=1), 1)
    )
    page = admin.get(f"/dashboard/month?month={day:%Y-%m}")
    assert page.status_code == 200
    assert f"{board.total.net:,}円" in page.content.decode()


def refund_at(payment: Payment, amount: int, at: datetime.datetime, succeeds: bool) -> None:
    """A refund through the real services, answered by the provider at ``at``."""
    payment.refresh_from_db()
    if payment.refundable_amount < amount:
        return
    refund = services.refund_create(
        payment=payment, amount=amount, expected_refundable_amount=payment.refundable_amount
    )
    code = "" if succeeds else "declined"
    with mock.patch("django.utils.timezone.now", return_value=at):
        services.refund_finish(
            refund=refund, result=RefundResult(succeeded=succeeds, failure_code=code)
        )


def test_a_payment_at_midnight_jst_counts_on_the_new_day(merchants: list[Merchant]) -> None:
    # Given: one payment a second before JST midnight, one exactly at it
    midnight = datetime.datetime(2026, 3, 1, tzinfo=JST)
    succeed_at(make_payment(merchants[0], 1000), midnight - datetime.timedelta(seconds=1))
    succeed_at(make_payment(merchants[0], 2000), midnight)

    # Then: February's last day has the first, March's first day the second
    feb = selectors.dashboard(start=datetime.date(2026, 2, 28), end=datetime.date(2026, 3, 1))
    mar = selectors.dashboard(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 2))
    assert as_tuple(feb.total)[:2] == (1, 1000)
    assert as_tuple(mar.total)[:2] == (1, 2000)
    # In UTC both are on 2026-02-28: the JST day is what counts.
    assert midnight.astimezone(UTC).date() == datetime.date(2026, 2, 28)
