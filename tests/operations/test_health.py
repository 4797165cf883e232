"""/healthz and /readyz on every listener (issue #11 item 3)."""

from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone

from madoguchi.platform import health
from madoguchi.platform.models import Heartbeat

pytestmark = pytest.mark.django_db

HOSTS = ["shinsei.test", "staff.shinsei.test", "kessai.test", "console.kessai.test"]


def beat(age: timedelta) -> None:
    seen = timezone.now() - age
    Heartbeat.objects.create(name="worker-a", kind="worker", started_at=seen, seen_at=seen)


@pytest.mark.parametrize("host", HOSTS)
def test_ready_with_database_migrations_and_a_fresh_worker_heartbeat(host: str) -> None:
    beat(timedelta(seconds=5))
    response = Client(HTTP_HOST=host).get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok", "worker": "ok"},
    }
    assert Client(HTTP_HOST=host).get("/healthz").content == b"ok"


def test_not_ready_when_the_worker_heartbeat_is_stale() -> None:
    beat(timedelta(seconds=61))
    Heartbeat.objects.create(
        name="scheduler-a", kind="scheduler", started_at=timezone.now(), seen_at=timezone.now()
    )  # a scheduler is no worker
    response = Client(HTTP_HOST="kessai.test").get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "no worker heartbeat"


def test_not_ready_when_no_worker_ever_beat() -> None:
    assert Client(HTTP_HOST="shinsei.test").get("/readyz").status_code == 503


def test_not_ready_when_the_database_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    beat(timedelta(seconds=1))

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = Client(HTTP_HOST="console.kessai.test").get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "unreachable (OperationalError)",
        "cache": "ok",
    }
    # Liveness does not depend on the database.
    assert Client(HTTP_HOST="console.kessai.test").get("/healthz").status_code == 200


def test_not_ready_while_a_migration_is_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    beat(timedelta(seconds=1))
    monkeypatch.setattr(health, "_migrations_ok_at", None)
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("a migration", False)],
    )
    response = Client(HTTP_HOST="staff.shinsei.test").get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"


def test_probes_bypass_the_office_network_allowlist() -> None:
    # The process manager or proxy probes from wherever it runs.
    outside = Client(HTTP_HOST="staff.shinsei.test", REMOTE_ADDR="203.0.113.9")
    assert outside.get("/healthz").status_code == 200
    assert outside.get("/metrics").status_code == 403
