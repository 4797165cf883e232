"""Load test of Madoguchi in its production process shape (docs/benchmarks.md).

    uv run python scripts/loadtest.py                 # every scenario, about 5 minutes
    uv run python scripts/loadtest.py --smoke         # tiny, for CI: checks it still runs

On PostgreSQL (fresh databases ``<prefix>_kessai``, ``<prefix>_shinsei`` and
``<prefix>_baseline``, dropped again at the end) and Redis, it starts
``madoguchi serve`` per surface (granian, ``--workers``/``--threads``), task
workers for each service and the card acquirer simulator — no ``up`` — then runs:

- baselines: a bare Django JSON view and a bare view doing one
  ``INSERT … RETURNING`` in one transaction (scripts/loadtest_baseline.py);
- (a) the merchant API: create payment, create checkout, get payment;
- (b) the full flow, counted when Shinsei shows 決済済, then checks both
  databases for lost or duplicated statuses;
- (c) a backlog of notifications drained by two workers per service;
- optionally (``--scaling 1,2,4``) (a) and the baselines again per number of
  web processes.

It prints a Markdown report (and writes it with ``--out``). Every target is
127.0.0.1; every run is bounded in time and count and stops by itself.
"""

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT / "src"))

from madoguchi import cli  # noqa: E402

HOST = "127.0.0.1"


@dataclass
class Topology:
    args: argparse.Namespace
    var: Path
    keys: dict[str, str]
    admin_url: str
    db_urls: dict[str, str]
    processes: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)

    @property
    def base(self) -> int:
        return int(self.args.port_base)

    def env(self, service: str) -> dict[str, str]:
        env = cli.service_env(service, self.var, self.base, HOST, self.keys)
        env.update(
            {
                "KESSAI_DATABASE_URL": self.db_urls["kessai"],
                "SHINSEI_DATABASE_URL": self.db_urls["shinsei"],
                "BASELINE_DATABASE_URL": self.db_urls["baseline"],
                "MADOGUCHI_CACHE_URL": self.args.redis_url,
                # The harness is one client sending as fast as it can: the
                # per-key budget would turn every figure into 429s.
                "MADOGUCHI_API_RATE_PER_MINUTE": str(10**9),
                "MADOGUCHI_DB_POOL_MAX_SIZE": str(self.args.threads + 2),
                "MADOGUCHI_LOG_LEVEL": "WARNING",
                # Cards on the acquirer simulator, the harness's own: its
                # figures are Kessai's, not a simulated SBPS's 3-D Secure hops.
                "KESSAI_DEMO_CARD_CONNECTOR": "sandbox",
                "PYTHONPATH": os.pathsep.join([str(SCRIPTS), str(ROOT / "src")]),
            }
        )
        return env

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = open(self.var / "log" / f"{name}.log", "ab")  # noqa: SIM115 - lives with the child
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.setdefault(name, []).append(process)

    def stop(self, name: str) -> None:
        for process in self.processes.pop(name, []):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        time.sleep(0.2)

    def stop_all(self) -> None:
        for name in list(self.processes):
            for process in self.processes[name]:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for processes in self.processes.values():
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def serve(self, surface: str, *, workers: int) -> str:
        listener = next(item for item in cli.LISTENERS if item.surface == surface)
        port = listener.port(self.base)
        command = [
            sys.executable,
            "-m",
            "madoguchi.cli",
            "serve",
            surface,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(self.args.threads),
        ]
        self.start(surface, command, self.env(listener.service))
        return f"http://{HOST}:{port}"

    def serve_baseline(self, *, workers: int) -> str:
        port = self.base + 300
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(self.args.threads),
            "--no-access-log",
            "--log-level",
            "warning",
            "loadtest_baseline:application",
        ]
        self.start("baseline", command, self.env("kessai"))
        return f"http://{HOST}:{port}"

    def workers(self, count: int) -> None:
        for service in ("kessai", "shinsei"):
            for _ in range(count):
                self.start(
                    f"{service}_worker",
                    [sys.executable, "-m", "django", "worker"],
                    self.env(service),
                )


def recreate_databases(admin_url: str, names: list[str]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')


def drop_databases(admin_url: str, names: list[str]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_up(urls: list[str], timeout: float = 90) -> None:
    missing = cli.wait_ready(urls, timeout=timeout)
    if missing:
        raise SystemExit(f"these listeners did not start: {missing}")


# --- measuring ---------------------------------------------------------------


def _tree(processes: list[subprocess.Popen[bytes]]) -> list[psutil.Process]:
    found: list[psutil.Process] = []
    for process in processes:
        try:
            parent = psutil.Process(process.pid)
            found += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return found


def _postgres_backends(topology: Topology) -> list[psutil.Process]:
    names = [url.rsplit("/", 1)[-1] for url in topology.db_urls.values()]
    with psycopg.connect(topology.admin_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", [names]
        ).fetchall()
    found = []
    for (pid,) in rows:
        with contextlib.suppress(psutil.NoSuchProcess):
            found.append(psutil.Process(pid))
    return found


class CpuMeter:
    """CPU seconds spent by our web processes, workers and the PostgreSQL
    backends serving our databases, between start() and stop()."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.before: dict[int, float] = {}

    def _groups(self) -> dict[str, list[psutil.Process]]:
        web: list[subprocess.Popen[bytes]] = []
        workers: list[subprocess.Popen[bytes]] = []
        for name, processes in self.topology.processes.items():
            (workers if name.endswith("_worker") else web).extend(processes)
        return {
            "web": _tree(web),
            "worker": _tree(workers),
            "postgres": _postgres_backends(self.topology),
        }

    @staticmethod
    def _seconds(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
            return float(times.user + times.system)
        except psutil.NoSuchProcess:
            return 0.0

    def start(self) -> None:
        self.before = {p.pid: self._seconds(p) for group in self._groups().values() for p in group}

    def stop(self) -> dict[str, float]:
        return {
            name: round(
                sum(max(0.0, self._seconds(p) - self.before.get(p.pid, 0.0)) for p in group), 1
            )
            for name, group in self._groups().items()
        }


def commits(topology: Topology, service: str) -> int:
    name = topology.db_urls[service].rsplit("/", 1)[-1]
    with psycopg.connect(topology.admin_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Row:
    name: str
    count: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def run_locust(
    topology: Topology, user: str, host: str, *, users: int, seconds: int, config: dict[str, Any]
) -> list[Row]:
    stats = topology.var / f"locust-{user}-{time.monotonic_ns()}.json"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(SCRIPTS / "loadtest_locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        host,
        "--loglevel",
        "WARNING",
        user,
    ]
    env = {**os.environ, "LOADTEST_CONFIG": json.dumps(config), "LOADTEST_STATS": str(stats)}
    with open(topology.var / "log" / "locust.log", "ab") as log:
        subprocess.run(  # noqa: S603 - our own command
            command, env=env, check=False, timeout=seconds + 60, stdout=log, stderr=log
        )
    return [
        # Requests per second over the whole run, spawning included: conservative.
        Row(**{**row, "rps": row["count"] / seconds})
        for row in json.loads(stats.read_text())
    ]


# --- scenarios ---------------------------------------------------------------

# (results key, Locust user): each merchant API call measured alone.
ONE_OPERATION_RUNS = [
    ("create_alone", "CreatePaymentOnly"),
    ("checkout_alone", "CreateCheckoutOnly"),
    ("get_alone", "GetPaymentOnly"),
]
ONE_OPERATION_NAMES = [
    ("create_alone", "create payment"),
    ("checkout_alone", "create checkout"),
    ("get_alone", "get payment"),
]


def measure(
    topology: Topology,
    user: str,
    host: str,
    *,
    users: int,
    seconds: int,
    config: dict[str, Any],
    service: str | None = None,
) -> dict[str, Any]:
    if topology.args.warmup:  # connections, pools and code paths warm, then measure
        run_locust(topology, user, host, users=users, seconds=topology.args.warmup, config=config)
    meter = CpuMeter(topology)
    commits_before = commits(topology, service) if service else 0
    meter.start()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = run_locust(topology, user, host, users=users, seconds=seconds, config=config)
    cpu = meter.stop()
    # Locust itself (a waited-for child of this process) shares the cores too.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu["locust"] = round(
        after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 1
    )
    result: dict[str, Any] = {"rows": rows, "cpu": cpu, "seconds": seconds}
    if service:
        result["commits"] = commits(topology, service) - commits_before
    return result


def backlog(topology: Topology, count: int, workers: int) -> dict[str, Any]:
    """Seed ``count`` due notifications of paid payments whose applications
    wait for them, start ``workers`` per service, time the drain."""
    topology.stop("kessai_worker")
    topology.stop("shinsei_worker")
    for service in ("shinsei", "kessai"):
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, str(SCRIPTS / "loadtest.py"), f"_seed-{service}", str(count)],
            env=topology.env(service),
            check=True,
            timeout=600,
        )
    meter = CpuMeter(topology)
    started = time.monotonic()
    topology.workers(workers)
    meter.start()
    name = topology.db_urls["kessai"]
    deadline = started + max(120, count / 20)
    remaining = count
    first = None  # the first delivery: the workers are up
    with psycopg.connect(name, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT count(*) FROM kessai_notification WHERE status = 'pending' "
                "AND event_id LIKE 'evt_backlog_%%'"
            ).fetchone()
            remaining = int(row[0]) if row else 0
            if first is None and remaining < count:
                first = time.monotonic()
            if remaining == 0:
                break
            time.sleep(0.25)
    end = time.monotonic()
    elapsed = end - started
    running = end - (first or started)
    cpu = meter.stop()
    with psycopg.connect(topology.db_urls["shinsei"], autocommit=True) as connection:
        # Exactly the seeded numbers (the flow's own 整理番号 may start with 9 too).
        row = connection.execute(
            "SELECT count(*) FROM shinsei_application WHERE reference BETWEEN %s AND %s "
            "AND payment_status = 'paid'",
            [f"9{0:011d}", f"9{count - 1:011d}"],
        ).fetchone()
    applied = int(row[0]) if row else 0
    return {
        "count": count,
        "delivered": count - remaining,
        "applied": applied,
        "seconds": round(elapsed, 1),
        "rate_with_worker_start": round((count - remaining) / elapsed, 1),
        "rate": round((count - remaining) / max(running, 0.001), 1),
        "cpu": cpu,
    }


def seed_shinsei(count: int) -> None:
    import django

    django.setup()
    from django.utils import timezone

    from madoguchi.shinsei.applications.models import Application
    from madoguchi.shinsei.procedures.models import Procedure

    procedure = Procedure.objects.get(slug="juminhyo")
    version = procedure.versions.order_by("-number").first()
    now = timezone.now()

    def accepted(n: int) -> Application:
        application = Application(
            procedure=procedure,
            form_version=version,
            reference=f"9{n:011d}",
            inquiry_password="-",  # noqa: S106 - never checked
            status=Application.Status.ACCEPTED,
            fee_amount=600,
            payment_status=Application.PaymentStatus.UNPAID,
            payment_checked_at=now,
            kessai_payment_id=f"pay_backlog_{n:012d}",
        )
        # As application_submit seals them: a data key of its own, then the
        # answers under it (the paid email reads the address from them).
        application.key_new()
        application.answers_seal({"name": "負荷 試験", "email": f"load{n}@example.jp"})
        return application

    Application.objects.bulk_create([accepted(n) for n in range(count)], batch_size=1000)


def seed_kessai(count: int) -> None:
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from madoguchi.contract import schemas
    from madoguchi.kessai.merchants.models import Merchant
    from madoguchi.kessai.payments.models import Notification, Payment
    from madoguchi.kessai.payments.selectors import payment_to_contract
    from madoguchi.kessai.payments.tasks import deliver_notification

    merchant = Merchant.objects.get(code="mayor")
    now = timezone.now()
    with transaction.atomic():
        payments = Payment.objects.bulk_create(
            [
                Payment(
                    public_id=f"pay_backlog_{n:012d}",
                    merchant=merchant,
                    reference=f"9{n:011d}",
                    amount=600,
                    return_url="http://127.0.0.1/r",
                    status=schemas.PaymentStatus.SUCCEEDED,
                    method=schemas.PaymentMethod.CARD,
                    paid_at=now,
                )
                for n in range(count)
            ],
            batch_size=1000,
        )
        notifications = []
        for n, payment in enumerate(Payment.objects.filter(public_id__startswith="pay_backlog_")):
            event = schemas.Event(
                id=f"evt_backlog_{n:012d}",
                type=schemas.EventType.PAYMENT_SUCCEEDED,
                created=now,
                data=schemas.EventData(payment=payment_to_contract(payment)),
            )
            notifications.append(
                Notification(
                    event_id=event.id,
                    merchant=merchant,
                    payment=payment,
                    type=event.type,
                    body=event.model_dump_json(),
                    next_attempt_at=now,
                )
            )
        created = Notification.objects.bulk_create(notifications, batch_size=1000)
        for notification in created:
            deliver_notification.enqueue(notification_id=notification.pk)
    if len(payments) != count:
        raise SystemExit(f"seeded {len(payments)} payments, not {count}")


def check_flow_consistency(topology: Topology) -> dict[str, int]:
    """After the flow (before the backlog is seeded): every payment Kessai
    took is 決済済 in Shinsei, none twice."""
    with psycopg.connect(topology.db_urls["kessai"], autocommit=True) as connection:
        succeeded: dict[str, int] = {
            str(reference): int(count)
            for reference, count in connection.execute(
                "SELECT reference, count(*) FROM kessai_payment WHERE status = 'succeeded' "
                "GROUP BY reference"
            ).fetchall()
        }
    with psycopg.connect(topology.db_urls["shinsei"], autocommit=True) as connection:
        paid = {
            row[0]
            for row in connection.execute(
                "SELECT reference FROM shinsei_application WHERE payment_status = 'paid'"
            ).fetchall()
        }
    return {
        "kessai_succeeded": len(succeeded),
        "shinsei_paid": len(paid),
        "duplicated": sum(1 for count in succeeded.values() if count > 1),
        "lost": len(set(succeeded) - paid),
        "paid_without_payment": len(paid - set(succeeded)),
    }


# --- report --------------------------------------------------------------------


def _row(result: dict[str, Any], name: str) -> Row | None:
    return next((row for row in result.get("rows", []) if row.name == name), None)


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"Load test: {args.users} users, {args.seconds} s per run, "
        f"{args.web_workers} web processes x {args.threads} threads per surface, "
        f"{args.workers} task workers per service.",
        f"Machine: {os.cpu_count()} cores; load before the run: {results['load_before']}; "
        f"after: {os.getloadavg()}.",
        "",
    ]
    floor = _row(results.get("bare_insert", {}), "bare insert")
    bare = _row(results.get("bare_json", {}), "bare json")
    lines += [
        "| operation | requests/s | p50 ms | p95 ms | p99 ms | failures | vs bare view "
        "| vs one-INSERT floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, names in (
        ("bare_json", ["bare json"]),
        ("bare_insert", ["bare insert"]),
        ("api", ["create payment", "create checkout", "get payment", "Aggregated"]),
        ("create_alone", ["create payment"]),
        ("checkout_alone", ["create checkout"]),
        ("get_alone", ["get payment"]),
    ):
        for name in names:
            row = _row(results.get(key, {}), name)
            if row is None:
                continue
            ratio_bare = f"{row.rps / bare.rps:.1%}" if bare and bare.rps else "-"
            ratio_floor = f"{row.rps / floor.rps:.1%}" if floor and floor.rps else "-"
            lines.append(
                f"| {key}: {name} | {row.rps:.1f} | {row.p50:.0f} | {row.p95:.0f} | {row.p99:.0f} "
                f"| {row.failures} | {ratio_bare} | {ratio_floor} |"
            )
    lines.append("")
    lines.append("CPU seconds during each run (web / worker / PostgreSQL backends / Locust):")
    for key in ("bare_json", "bare_insert", "api", *(k for k, _ in ONE_OPERATION_RUNS), "flow"):
        if key in results:
            lines.append(f"- {key}: {results[key]['cpu']}")
    lines += ["", "CPU milliseconds per request (web / PostgreSQL):"]
    for key, name in (
        ("bare_json", "bare json"),
        ("bare_insert", "bare insert"),
        *ONE_OPERATION_NAMES,
    ):
        row = _row(results.get(key, {}), name)
        if row and row.count:
            cpu = results[key]["cpu"]
            lines.append(
                f"- {name}: {1000 * cpu['web'] / row.count:.2f} / "
                f"{1000 * cpu['postgres'] / row.count:.2f}"
            )
    api = results.get("api", {})
    created = _row(api, "create payment")
    if created and created.count:
        lines.append(
            f"- Kessai commits per API iteration (create+checkout+get; autocommit reads count "
            f"as commits, and so does the idle workers' polling): "
            f"{api['commits'] / created.count:.2f}"
        )
    if "flow" in results:
        flow = results["flow"]
        paid = _row(flow, "paid application (決済済 on Shinsei)")
        lines += ["", "Full flow (b):"]
        if paid:
            lines.append(
                f"- paid applications: {paid.count} ({paid.count / flow['seconds']:.1f}/s), "
                f"failed flows {paid.failures}, flow time p50 {paid.p50:.0f} ms, "
                f"p95 {paid.p95:.0f} ms, p99 {paid.p99:.0f} ms"
            )
        lines.append(f"- consistency: {flow['consistency']}")
        if paid and paid.count:
            per_flow = ", ".join(
                f"{name} {1000 * seconds / paid.count:.0f}" for name, seconds in flow["cpu"].items()
            )
            lines.append(f"- CPU ms per paid flow: {per_flow}")
            lines.append("- requests per paid flow, by name (count / paid flows, p50 ms):")
            lines += [
                f"  - {row.name}: {row.count / paid.count:.2f}, p50 {row.p50:.0f}"
                for row in flow["rows"]
                if row.name not in (paid.name, "Aggregated")
            ]
    if "backlog" in results:
        lines += ["", f"Notification backlog (c): {results['backlog']}"]
    if results.get("scaling"):
        lines += [
            "",
            "| web processes | bare json /s | bare insert /s | create+checkout+get iterations /s "
            "| create payment alone /s |",
            "|---|---|---|---|---|",
        ]
        for workers, scaled in results["scaling"].items():
            cells = []
            for key, name in (
                ("bare_json", "bare json"),
                ("bare_insert", "bare insert"),
                ("api", "create payment"),
                ("create_alone", "create payment"),
            ):
                row = _row(scaled.get(key, {}), name)
                cells.append(f"{row.rps:.1f}" if row else "-")
            lines.append(f"| {workers} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------


def checkpoint(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Write what is measured so far, so a long run that fails late keeps it."""
    if args.out:
        Path(args.out).write_text(report(results, args))


def run(args: argparse.Namespace) -> int:
    var = Path(tempfile.mkdtemp(prefix="madoguchi-load-"))
    (var / "log").mkdir()
    admin_url = f"{args.postgres}/postgres"
    names = {s: f"{args.db_prefix}_{s}" for s in ("kessai", "shinsei", "baseline")}
    db_urls = {s: f"{args.postgres}/{name}" for s, name in names.items()}
    recreate_databases(admin_url, list(names.values()))
    topology = Topology(args, var, cli.load_or_create_secrets(var), admin_url, db_urls)
    results: dict[str, Any] = {"load_before": os.getloadavg()}
    try:
        saved = dict(os.environ)
        os.environ.update(topology.env("kessai"))
        try:
            demo = cli.prepare(var, topology.base, HOST, topology.keys)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, str(SCRIPTS / "loadtest_baseline.py"), "create-table"],
            env=topology.env("kessai"),
            check=True,
        )
        urls = {
            surface: topology.serve(surface, workers=args.web_workers)
            for surface in ("kessai_public", "shinsei_public", "shinsei_staff")
        }
        urls["simulators"] = topology.serve("simulators", workers=1)
        baseline = topology.serve_baseline(workers=args.web_workers)
        topology.workers(args.workers)
        wait_up([*urls.values(), baseline])
        staff = next(
            a for a in demo["accounts"]["shinsei_staff"] if a["login_id"] == "staff-shimin"
        )
        config = {
            "api_key": demo["merchants"]["mayor"]["api_key"],
            "shinsei_public": urls["shinsei_public"],
            "staff_url": urls["shinsei_staff"],
            "staff_login": staff["login_id"],
            "staff_password": staff["password"],
            "flow_poll": args.flow_poll,
        }
        common = {"users": args.users, "seconds": args.seconds, "config": config}
        if not args.skip_api:
            results["bare_json"] = measure(topology, "BareJson", baseline, **common)
            results["bare_insert"] = measure(topology, "BareInsert", baseline, **common)
            results["api"] = measure(
                topology, "MerchantApi", urls["kessai_public"], service="kessai", **common
            )
            # Each call alone too: the target is each operation's throughput
            # against the floor, which the mixed run above divides by three.
            for key, user in ONE_OPERATION_RUNS:
                results[key] = measure(
                    topology, user, urls["kessai_public"], service="kessai", **common
                )
            checkpoint(results, args)
        if "flow" in args.scenarios:
            results["flow"] = measure(
                topology,
                "FullFlow",
                urls["shinsei_public"],
                users=args.flow_users,
                seconds=args.flow_seconds,
                config=config,
                service="shinsei",
            )
            time.sleep(3)  # the last notifications of flows that finished in time
            results["flow"]["consistency"] = check_flow_consistency(topology)
            checkpoint(results, args)
        if "backlog" in args.scenarios:
            results["backlog"] = backlog(topology, args.backlog, workers=2)
            checkpoint(results, args)
        if args.scaling:
            # (a) needs only Kessai's public listener: Shinsei's listeners'
            # pools would hold connections PostgreSQL's max_connections (100)
            # cannot spare at four processes per surface.
            # Kessai's worker stays: its heartbeat is part of /readyz.
            for name in [n for n in topology.processes if n.startswith("shinsei_")]:
                topology.stop(name)
            results["scaling"] = {}
            for workers in args.scaling:
                topology.stop("kessai_public")
                topology.stop("baseline")
                urls["kessai_public"] = topology.serve("kessai_public", workers=workers)
                baseline = topology.serve_baseline(workers=workers)
                wait_up([urls["kessai_public"], baseline])
                results["scaling"][workers] = {
                    "bare_json": measure(topology, "BareJson", baseline, **common),
                    "bare_insert": measure(topology, "BareInsert", baseline, **common),
                    "api": measure(topology, "MerchantApi", urls["kessai_public"], **common),
                    "create_alone": measure(
                        topology, "CreatePaymentOnly", urls["kessai_public"], **common
                    ),
                }
                checkpoint(results, args)
    except (Exception, SystemExit):
        # What was measured before the failure is still reported.
        traceback.print_exc()
        results["failed"] = True
    finally:
        topology.stop_all()
        if not args.keep:
            drop_databases(admin_url, list(names.values()))
    text = report(results, args)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if results.get("failed"):
        return 1
    if args.smoke:
        return smoke_verdict(results)
    return 0


def smoke_verdict(results: dict[str, Any]) -> int:
    """A smoke run passes when every scenario did its work at least once."""
    problems = []
    for key, name in (
        ("bare_json", "bare json"),
        ("bare_insert", "bare insert"),
        ("api", "create payment"),
        ("api", "get payment"),
        *((key, name) for key, name in ONE_OPERATION_NAMES),
    ):
        row = _row(results.get(key, {}), name)
        if row is None or row.count == 0 or row.failures:
            problems.append(f"{key}/{name}: {row}")
    if "flow" in results:
        paid = _row(results["flow"], "paid application (決済済 on Shinsei)")
        consistency = results["flow"]["consistency"]
        if paid is None or paid.count == 0:
            problems.append(f"no flow finished: {paid}")
        if consistency["duplicated"] or consistency["paid_without_payment"]:
            problems.append(f"flow consistency: {consistency}")
    if "backlog" in results and results["backlog"]["applied"] != results["backlog"]["count"]:
        problems.append(f"backlog: {results['backlog']}")
    for problem in problems:
        print("SMOKE FAILURE:", problem, file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("_seed-kessai", "_seed-shinsei"):
        (seed_kessai if argv[0] == "_seed-kessai" else seed_shinsei)(int(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db-prefix", default="madoguchi_load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--port-base", type=int, default=25000)
    parser.add_argument("--users", type=int, default=32, help="concurrent connections")
    parser.add_argument("--flow-users", type=int, default=32)
    parser.add_argument("--flow-seconds", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=20, help="length of each run")
    parser.add_argument("--web-workers", type=int, default=2, help="processes per surface")
    parser.add_argument("--threads", type=int, default=8, help="threads per web process")
    parser.add_argument("--workers", type=int, default=2, help="task workers per service")
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=5, help="seconds before each measured run")
    parser.add_argument(
        "--scenarios", default="api,flow,backlog", help="comma-separated: api,flow,backlog"
    )
    parser.add_argument(
        "--skip-api", action="store_true", help="skip the baselines and (a), to time (b) or (c)"
    )
    parser.add_argument(
        "--flow-poll",
        type=float,
        default=1.0,
        help="seconds between a flow user's reloads of the status page",
    )
    parser.add_argument("--scaling", default="", help="web processes to try, e.g. 1,2,4")
    parser.add_argument("--smoke", action="store_true", help="tiny run: does it still work?")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args(argv)
    args.scenarios = args.scenarios.split(",")
    args.scaling = [int(n) for n in args.scaling.split(",") if n]
    if args.smoke:
        args.users, args.flow_users, args.seconds, args.backlog = 2, 2, 8, 20
        args.warmup, args.flow_seconds = 0, 30
        args.web_workers, args.threads, args.scaling = 1, 2, []
        args.db_prefix = f"{args.db_prefix}_smoke_{os.getpid()}"
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
