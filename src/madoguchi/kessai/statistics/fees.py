"""Fees owed to the payment provider, from the configured rates.

The rule (docs/console.md): for each JST day, merchant and method,
``floor(succeeded amount × percent / 100) + fixed_yen × succeeded count``,
with the rate in effect on that day. Refunds do not give fees back.
"""

import bisect
import datetime
from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal

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
        proportional = (Decimal(amount) * rate.percent / 100).to_integral_value(ROUND_FLOOR)
        return int(proportional) + rate.fixed_yen * count
