"""The benchmark command works (a tiny run; the real runs are in docs/benchmarks.md)."""

import datetime
from io import StringIO

from django.core.management import call_command
from django.db.models import Sum

from madoguchi.kessai.console import selectors
from madoguchi.kessai.console.management.commands.console_benchmark import load
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


def test_loader_spreads_every_batch_over_all_the_days(db: None) -> None:
    load(n=600, days=10, merchants=2, batch=100)
    days = set(DailySummary.objects.values_list("day", flat=True))
    # 600 payments over ten days, in six batches: every day has some (the
    # span's edges may add an eleventh JST day)
    assert len(days) in (10, 11)
    assert Payment.objects.count() == 600
