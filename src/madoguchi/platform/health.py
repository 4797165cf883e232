"""Liveness and readiness, on every listener (Kubernetes' split).

- ``/healthz``: the process answers. Nothing else is checked, so a process
  manager does not restart web processes because the database is down.
- ``/readyz``: the database answers, every migration is applied, some
  worker's heartbeat is younger than ``MADOGUCHI_READY_HEARTBEAT_SECONDS``
  (a minute), and the cache answers on the listeners whose logins need it
  (``MADOGUCHI_READY_NEEDS_CACHE``); 503 with the failing checks otherwise.
  On the other listeners an unreachable cache is reported with status
  ``"degraded"`` and 200: what they serve goes on without it.
  ``madoguchi up`` waits on it.

Answered by a middleware before redirects and network allowlists: probes come
from the process manager or the proxy over plain HTTP.
"""

import json
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .cache import cache_state

HEARTBEAT_MAX_AGE = 60
# Once every migration is applied it stays so for the process's life; the
# (costly) check is repeated at most this often.
_MIGRATIONS_CHECK_SECONDS = 60.0
_migrations_ok_at: float | None = None


def _database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def _migrations() -> str:
    global _migrations_ok_at
    now = time.monotonic()
    if _migrations_ok_at is not None and now - _migrations_ok_at < _MIGRATIONS_CHECK_SECONDS:
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        _migrations_ok_at = None
        return "pending"
    _migrations_ok_at = now
    return "ok"


def _worker() -> str:
    from .models import Heartbeat

    max_age = getattr(settings, "MADOGUCHI_READY_HEARTBEAT_SECONDS", HEARTBEAT_MAX_AGE)
    fresh = Heartbeat.objects.filter(
        kind=Heartbeat.Kind.WORKER, seen_at__gte=timezone.now() - timedelta(seconds=max_age)
    ).exists()
    return "ok" if fresh else "no worker heartbeat"


def readiness() -> dict[str, str]:
    """Each check's answer; ``"ok"`` everywhere means ready."""
    engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
    if engine in ("", "django.db.backends.dummy"):  # the simulators keep nothing
        return {}
    checks = {"database": _database(), "cache": cache_state()}
    if checks["database"] != "ok":
        return checks
    try:
        checks["migrations"] = _migrations()
        checks["worker"] = _worker()
    except DatabaseError as exc:
        checks["database"] = f"unreachable ({type(exc).__name__})"
    return checks


def readyz(request: HttpRequest) -> HttpResponse:
    checks = readiness()
    surface = getattr(request, "surface", "")
    needed = {
        name
        for name in checks
        if name != "cache" or surface in getattr(settings, "MADOGUCHI_READY_NEEDS_CACHE", ())
    }
    ready = all(checks[name] == "ok" for name in needed)
    degraded = ready and any(value != "ok" for value in checks.values())
    status = "degraded" if degraded else "ready" if ready else "not ready"
    body = {"status": status, "checks": checks}
    return HttpResponse(
        json.dumps(body), status=200 if ready else 503, content_type="application/json"
    )


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return healthz(request)
            if request.path == "/readyz":
                return readyz(request)
        return self.get_response(request)
