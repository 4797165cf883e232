"""Load N synthetic payments (with their daily summaries) and measure the
console: dashboard server time, search time, and CSV export time and peak
memory. Run on purpose, not in the test suite; results go to docs/benchmarks.md.

    KESSAI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mg_bench \\
        madoguchi kessai migrate
    KESSAI_DATABASE_URL=... madoguchi kessai console_benchmark --payments 100000
"""

import datetime
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client, override_settings

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments.models import DailySummary, Payment
from madoguchi.kessai.statistics.models import FeeRate

JST = ZoneInfo("Asia/Tokyo")
HOST = "console.bench"
PASSWORD = "bench-password-2026"  # noqa: S105 (a throwaway account in a throwaway database)
# Synthetic payments end here and spread back over --days days.
END = datetime.datetime(2026, 11, 25, 15, 0, tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = "Load N synthetic payments and time the console's dashboard and exports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--payments", type=int, required=True)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--merchants", type=int, default=2)
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--no-load", action="store_true", help="measure what is already loaded")
        parser.add_argument(
            "--no-export", action="store_true", help="skip the full transactions export"
        )
        parser.add_argument("--load-only", action="store_true", help="load, measure nothing")
        parser.add_argument(
            "--no-tracemalloc",
            action="store_true",
            help="skip the second, traced export (tracemalloc slows it about eightfold)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            self.stderr.write("MADOGUCHI_DEBUG is on: query logging distorts the numbers.")
        n = int(options["payments"])
        if not options["no_load"]:
            started = time.perf_counter()
            load(n=n, days=int(options["days"]), merchants=int(options["merchants"]))
            self.line(f"load: {n:,} payments in {time.perf_counter() - started:.1f} s")
        if options["load_only"]:
            return
        total = Payment.objects.count()
        self.line(
            f"database: {connection.vendor}; payments: {total:,}; "
            f"summary rows: {DailySummary.objects.count():,}"
        )
        self.line(
            f"machine: {platform.machine()}, {platform.python_implementation()} "
            f"{platform.python_version()}, cpus: {_cpus()}"
        )
        with override_settings(
            MADOGUCHI_SURFACE="kessai_console", ALLOWED_HOSTS=[HOST], MADOGUCHI_SURFACE_HOSTS={}
        ):
            client = _login()
            repeat = int(options["repeat"])
            month = (END.astimezone(JST)).strftime("%Y-%m")
            day = (END.astimezone(JST)).strftime("%Y-%m-%d")
            for name, path in [
                ("dashboard (day)", f"/dashboard?day={day}"),
                ("dashboard (month + 12 months)", f"/dashboard/month?month={month}"),
                ("transactions, first page", "/"),
                ("transactions, by reference", "/?reference=BENCH-7"),
                ("transactions, one day paid", f"/?date_basis=paid&date_from={day}&date_to={day}"),
                ("daily summary CSV, one year", "/exports/daily.csv"),
            ]:
                times = _time(lambda p=path: _get(client, p), repeat)  # type: ignore[misc]
                self.line(
                    f"{name}: median {statistics.median(times):.1f} ms, "
                    f"max {max(times):.1f} ms ({repeat} runs)"
                )
            if not options["no_export"]:
                passes = (False,) if options["no_tracemalloc"] else (False, True)
                for measure_memory in passes:
                    rss_before = _max_rss_mib()
                    started = time.perf_counter()
                    if measure_memory:
                        tracemalloc.start()
                    size = _get(client, "/exports/transactions.csv")
                    elapsed = time.perf_counter() - started
                    if measure_memory:
                        _, peak = tracemalloc.get_traced_memory()
                        tracemalloc.stop()
                        self.line(
                            f"transactions CSV, all rows: peak traced memory "
                            f"{peak / 1024 / 1024:.1f} MiB ({elapsed:.1f} s under tracemalloc)"
                        )
                    else:
                        self.line(
                            f"transactions CSV, all rows: {size / 1024 / 1024:.0f} MiB "
                            f"in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} rows/s); "
                            f"process max RSS {rss_before:.0f} MiB before, "
                            f"{_max_rss_mib():.0f} MiB after"
                        )

    def line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _max_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _login() -> Client:
    """A viewer signed in through the real pages, second factor included."""
    from django_otp.oath import totp

    account, _ = ConsoleAccount.objects.get_or_create(
        login_id="bench-viewer", defaults={"display_name": "benchmark", "role": "viewer"}
    )
    account.must_change_password = False
    account.set_password(PASSWORD)
    account.save()
    device = account.totp_devices.first() or account.totp_devices.create(name="benchmark")
    client = Client(HTTP_HOST=HOST)
    response = client.post("/login", {"login_id": account.login_id, "password": PASSWORD})
    if response.status_code == 302 and response["Location"].endswith("/login/totp"):
        code = f"{totp(device.bin_key):06d}"
        response = client.post("/login/totp", {"code": code})
    if response.status_code != 302 or "/login" in response["Location"]:
        raise RuntimeError(f"benchmark login failed: {response.status_code}")
    return client


def _get(client: Client, path: str) -> int:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code}")
    if not response.streaming:
        return len(response.content)
    size = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        size += len(chunk)
    return size


def _time(call: Callable[[], object], repeat: int) -> list[float]:
    call()  # warm: templates compiled, connection open
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _merchants(count: int) -> list[int]:
    ids = []
    for index in range(count):
        merchant, _ = Merchant.objects.get_or_create(
            code=f"bench-{index}",
            defaults={
                "display_name": f"ベンチマーク機関{index}",
                "notification_url": "http://127.0.0.1:9/none",
                "notification_secret": "bench",
            },
        )
        ids.append(merchant.pk)
    return ids


def load(*, n: int, days: int, merchants: int, batch: int = 1_000_000) -> None:
    """Synthetic payments in one set-based INSERT per batch, spread evenly over
    ``days`` days; nine in ten succeed; then the summaries, computed from the
    payments exactly as ``ledger_add`` would have kept them, and one refund in
    a hundred."""
    merchant_ids = _merchants(merchants)
    for method, percent in (("card", "3.240"), ("paypay", "1.980"), ("apple_pay", "3.240")):
        FeeRate.objects.get_or_create(
            method=method,
            effective_from=datetime.date(2020, 1, 1),
            defaults={"percent": percent},
        )
    start_id = (Payment.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    span = days * 86400
    last = start_id + n  # spread every batch over the whole span, not its own slice
    first = merchant_ids[0]
    with connection.cursor() as cursor:
        for offset in range(0, n, batch):
            size = min(batch, n - offset)
            lo, hi = start_id + offset, start_id + offset + size - 1
            if connection.vendor == "postgresql":
                series = f"generate_series({lo}, {hi}) AS g"
                created = (
                    f"(TIMESTAMPTZ '{END.isoformat()}' - make_interval(secs => "
                    f"(({last} - g)::bigint * {span}) / {n}))"
                )
                hexid = "lpad(to_hex(g), 24, '0')"
                ref = "'BENCH-' || g"
                paid = f"{created} + interval '5 minutes'"
            else:
                recursive = "WITH RECURSIVE s(g) AS (SELECT {lo} UNION ALL SELECT g + 1 FROM s"
                series = "(" + recursive.format(lo=lo) + f" WHERE g < {hi}) SELECT g FROM s)"  # noqa: S608
                created = (
                    f"strftime('%Y-%m-%d %H:%M:%f', '{END.strftime('%Y-%m-%d %H:%M:%S')}', "
                    f"'-' || ((({last} - g) * {span}) / {n}) || ' seconds')"
                )
                hexid = "printf('%024x', g)"
                ref = "'BENCH-' || g"
                paid = f"strftime('%Y-%m-%d %H:%M:%f', {created}, '+5 minutes')"
            methods = "CASE g % 3 WHEN 0 THEN 'card' WHEN 1 THEN 'paypay' ELSE 'apple_pay' END"
            status = "CASE WHEN g % 10 = 0 THEN 'expired' ELSE 'succeeded' END"
            sql = f"""
                INSERT INTO kessai_payment (public_id, merchant_id, reference, amount,
                    return_url, language, status, method, paid_at, due_at, created_at,
                    updated_at, refunded_amount, refund_pending_amount)
                SELECT 'pay_' || {hexid}, {first} + (g % {merchants}), {ref},
                    300 + (g % 50) * 100, 'http://127.0.0.1/r', 'ja', {status},
                    CASE WHEN g % 10 = 0 THEN '' ELSE {methods} END,
                    CASE WHEN g % 10 = 0 THEN NULL ELSE {paid} END, NULL,
                    {created}, {created}, 0, 0
                FROM {series}
            """  # noqa: S608 (numbers and constants only)
            with transaction.atomic():
                cursor.execute(sql)
        DailySummary.objects.filter(merchant_id__in=merchant_ids).delete()
        day = (
            "(paid_at AT TIME ZONE 'Asia/Tokyo')::date"
            if connection.vendor == "postgresql"
            else "date(paid_at, '+9 hours')"
        )
        ids = ",".join(str(i) for i in merchant_ids)
        cursor.execute(
            f"""
            INSERT INTO kessai_daily_summary (day, merchant_id, method, succeeded_count,
                succeeded_amount, refunded_count, refunded_amount)
            SELECT {day}, merchant_id, method, COUNT(*), SUM(amount),
                COUNT(*) / 100, (SUM(amount) / 100)
            FROM kessai_payment
            WHERE status = 'succeeded' AND merchant_id IN ({ids})
            GROUP BY 1, 2, 3
            """  # noqa: S608
        )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE kessai_payment")
            cursor.execute("ANALYZE kessai_daily_summary")
