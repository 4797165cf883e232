"""Prometheus metrics (prometheus-client), served at ``/metrics`` on the
internal listeners only (Shinsei staff, Kessai console) — the public URLconfs
have no such route.

Two kinds:

- **Events counted in the process** (requests by route and status, their
  latency, login failures and lockouts, sweep durations). Every process of a
  service on one host writes them to ``PROMETHEUS_MULTIPROC_DIR`` (prometheus
  client's multiprocess mode), so the internal listener reports the public
  listeners' and workers' counts too; without that directory (tests) they stay
  in the process.
- **State read from the database at scrape time** (tasks queued and the
  oldest one's age per queue, each sweep's last run, heartbeats, the audit
  chain's last verify, and each service's own figures through
  ``MADOGUCHI_METRICS_COLLECTORS``): the same answer from any process.
"""

import hmac
import os
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# prometheus-client writes into this directory from the first count on: a
# process started outside ``madoguchi up`` (a systemd unit, the load harness)
# may be the first of its service, so make sure it exists.
if _MULTIPROC_DIR := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(_MULTIPROC_DIR, mode=0o700, exist_ok=True)

REQUESTS = Counter(
    "madoguchi_http_requests_total",
    "HTTP requests by listener, URL route, method and status.",
    ["service", "surface", "route", "method", "status"],
)
LATENCY = Histogram(
    "madoguchi_http_request_duration_seconds",
    "HTTP request latency by listener and URL route.",
    ["service", "surface", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOGIN_FAILURES = Counter(
    "madoguchi_login_failures_total",
    "Failed logins (wrong ID or password, or refused while locked).",
    ["service", "namespace"],
)
LOCKOUTS = Counter(
    "madoguchi_login_lockouts_total",
    "Accounts locked by repeated failures.",
    ["service", "namespace"],
)
SWEEPS = Histogram(
    "madoguchi_sweep_duration_seconds",
    "Duration of the periodic sweeps, by sweep and outcome.",
    ["service", "sweep", "outcome"],
    buckets=(0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)


def _service() -> str:
    return str(getattr(settings, "MADOGUCHI_SERVICE", "-"))


def observe_request(*, surface: str, route: str, method: str, status: int, seconds: float) -> None:
    service = surface.split("_")[0]
    REQUESTS.labels(service, surface, route, method, str(status)).inc()
    LATENCY.labels(service, surface, route).observe(seconds)


def observe_login_failure(*, namespace: str, lockout: bool) -> None:
    LOGIN_FAILURES.labels(_service(), namespace).inc()
    if lockout:
        LOCKOUTS.labels(_service(), namespace).inc()


def observe_sweep(*, name: str, seconds: float, ok: bool) -> None:
    SWEEPS.labels(_service(), name.rsplit(".", 1)[-1], "ok" if ok else "error").observe(seconds)


def age_seconds(oldest: datetime | None) -> float:
    """Seconds since ``oldest``; 0 when there is nothing."""
    if oldest is None:
        return 0.0
    return max(0.0, (timezone.now() - oldest).total_seconds())


class PlatformCollector(Collector):
    """Tasks, sweeps, heartbeats and the audit chain, from the database (lockouts
    live in the cache and are counted as they happen: ``LOCKOUTS``)."""

    def collect(self) -> Iterator[Metric]:
        from django.tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from .models import Heartbeat, ScheduledJob

        service = _service()
        queued = GaugeMetricFamily(
            "madoguchi_tasks_queued", "Tasks ready to run, by queue.", labels=["service", "queue"]
        )
        oldest = GaugeMetricFamily(
            "madoguchi_tasks_oldest_queued_age_seconds",
            "Age of the oldest task ready to run, by queue.",
            labels=["service", "queue"],
        )
        # Every configured queue, empty ones as 0, so alerts see them.
        by_queue: dict[str, tuple[int, datetime | None]] = dict.fromkeys(
            settings.TASKS["default"].get("QUEUES", ["default"]), (0, None)
        )
        for row in (
            DBTaskResult.objects.ready()
            .values("queue_name")
            .annotate(n=Count("pk"), oldest=Min("run_after"))
        ):
            by_queue[row["queue_name"]] = (row["n"], row["oldest"])
        for queue, (count, first) in sorted(by_queue.items()):
            queued.add_metric([service, queue], count)
            oldest.add_metric([service, queue], age_seconds(first))
        yield queued
        yield oldest
        running = GaugeMetricFamily(
            "madoguchi_tasks_running", "Tasks being run.", labels=["service"]
        )
        running.add_metric(
            [service], DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
        )
        yield running

        duration = GaugeMetricFamily(
            "madoguchi_sweep_last_duration_seconds",
            "How long each sweep's last run took.",
            labels=["service", "sweep"],
        )
        last_ok = GaugeMetricFamily(
            "madoguchi_sweep_last_ok",
            "1 if the sweep's last run succeeded.",
            labels=["service", "sweep"],
        )
        finished = GaugeMetricFamily(
            "madoguchi_sweep_last_finished_timestamp_seconds",
            "When each sweep last finished (Unix time).",
            labels=["service", "sweep"],
        )
        verify = GaugeMetricFamily(
            "madoguchi_audit_verify_ok",
            "1 if the last audit chain verify passed, 0 if it found problems.",
            labels=["service"],
        )
        for job in ScheduledJob.objects.exclude(last_finished_at=None):
            sweep = job.name.rsplit(".", 1)[-1]
            duration.add_metric([service, sweep], (job.last_duration_ms or 0) / 1000)
            last_ok.add_metric([service, sweep], 1.0 if job.last_ok else 0.0)
            finished.add_metric([service, sweep], job.last_finished_at.timestamp())  # type: ignore[union-attr]
            if sweep == "audit_verify_sweep":
                verify.add_metric([service], 1.0 if job.last_ok else 0.0)
        yield duration
        yield last_ok
        yield finished
        yield verify

        heartbeat = GaugeMetricFamily(
            "madoguchi_heartbeat_age_seconds",
            "Age of the youngest heartbeat, by kind (worker, scheduler).",
            labels=["service", "kind"],
        )
        for kind in Heartbeat.Kind.values:
            youngest = (
                Heartbeat.objects.filter(kind=kind)
                .order_by("-seen_at")
                .values_list("seen_at", flat=True)
            ).first()
            # No heartbeat ever: report a day, so "missing" alerts fire.
            age = age_seconds(youngest) if youngest else timedelta(days=1).total_seconds()
            heartbeat.add_metric([service, kind], age)
        yield heartbeat


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector())
    for path in getattr(settings, "MADOGUCHI_METRICS_COLLECTORS", []):
        registry.register(import_string(path)())
    return registry


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        events = CollectorRegistry()
        MultiProcessCollector(events)  # type: ignore[no-untyped-call]
    else:
        events = REGISTRY
    return generate_latest(events) + generate_latest(_database_registry())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics`` on an internal listener (behind its network allowlist),
    for the scraper holding ``MADOGUCHI_METRICS_TOKEN`` (a bearer token):
    the office network holds more than the monitoring server."""
    token = getattr(settings, "MADOGUCHI_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            response = HttpResponse("scrape token required\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
