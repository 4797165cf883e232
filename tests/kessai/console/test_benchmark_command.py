"""The benchmark command works (a tiny run; the real runs are in docs/benchmarks.md)."""

import datetime
from io import StringIO

from django.core.management import call_command
from django.db.models import Sum

from madoguchi.kessai.console import selectors
from madoguchi.kessai.payments.models import DailySummary, Payment


def test_benchmark_loads_payments_with_matching_summaries_and_reports(db: None) -> None:
    out = StringIO()
    call_command("console_benchmark", payments=300, days=10, repeat=1, stdout=out)
    text = out.getvalue()
    assert Payment.objects.count() == 300
    succeeded = Payment.objects.filter(status="succeeded")
    assert succeeded.count() == 270  # one in ten expires
    # The loaded summaries are what ledger_add would have kept
    board = selectors.dashboard(start=datetime.date(2020, 1, 1), end=datetime.date(2030, 1, 1))
    assert board.total.succeeded_count == 270
    assert board.total.succeeded_amount == succeeded.aggregate(s=Sum("amount"))["s"]
    assert DailySummary.objects.count() > 0
    for label in ("dashboard (day)", "dashboard (month + 12 months)", "peak traced memory"):
        assert label in text
