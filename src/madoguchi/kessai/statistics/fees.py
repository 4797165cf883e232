"""Fees owed to the payment provider, from the configured rates.

The rule (docs/console.md): for each JST day, merchant and method,
``floor(succeeded amount × percent / 100) + fixed_yen × succeeded count``,
with the rate in effect on that day. Refunds do not give fees back.
"""

import bisect
import datetime
from collections import defaultdict
from decimal import ROUND_FLOOR

from django.db.models import (
    BigIntegerField,
    Case,
    ExpressionWrapper,
    F,
    Q,
    Value,
    When,
)

from .models import FeeRate


class FeeSchedule:
    def __init__(self, rates: list[FeeRate]) -> None:
        by_method: dict[str, list[FeeRate]] = defaultdict(list)
        for rate in sorted(rates, key=lambda r: r.effective_from):
            by_method[rate.method].append(rate)
        self._rates = dict(by_method)
        self._days = {m: [r.effective_from for r in rs] for m, rs in by_method.items()}

    @classmethod
    def load(cls) -> "FeeSchedule":
        return cls(list(FeeRate.objects.all()))

    def rate_on(self, method: str, day: datetime.date) -> FeeRate | None:
        days = self._days.get(method)
        if not days:
            return None
        index = bisect.bisect_right(days, day) - 1
        return self._rates[method][index] if index >= 0 else None

    def fee(self, *, method: str, day: datetime.date, amount: int, count: int) -> int:
        rate = self.rate_on(method, day)
        if rate is None or not count:
            return 0
        return amount * milli_percent(rate) // 100_000 + rate.fixed_yen * count

    def periods(self) -> list[tuple[str, datetime.date, datetime.date | None, FeeRate]]:
        """Each rate with the day it starts and the day the next one starts."""
        out = []
        for method, rates in self._rates.items():
            for index, rate in enumerate(rates):
                following = rates[index + 1].effective_from if index + 1 < len(rates) else None
                out.append((method, rate.effective_from, following, rate))
        return out

    def expression(self) -> Case:
        """The same rule as ``fee`` as a SQL expression over summary rows, so the
        database sums fees without sending the rows to Python. Integer division
        of non-negative numbers is the floor in both SQLite and PostgreSQL."""
        whens = []
        for method, start, end, rate in self.periods():
            condition = Q(method=method, day__gte=start, succeeded_count__gt=0)
            if end is not None:
                condition &= Q(day__lt=end)
            fee = ExpressionWrapper(
                F("succeeded_amount") * Value(milli_percent(rate)) / Value(100_000)
                + F("succeeded_count") * Value(rate.fixed_yen),
                output_field=BigIntegerField(),
            )
            whens.append(When(condition, then=fee))
        return Case(*whens, default=Value(0), output_field=BigIntegerField())


def milli_percent(rate: FeeRate) -> int:
    # percent has three decimal places: an exact integer in thousandths
    return int((rate.percent * 1000).to_integral_value(ROUND_FLOOR))
