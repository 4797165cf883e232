"""deploy/prometheus/alerts.yml: well-formed alerting rules for the pages the
issue names, on metrics the internal listeners really export. promtool
checks it too where Debian's prometheus package is installed."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from madoguchi.platform.models import Heartbeat, ScheduledJob

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_is_complete() -> None:
    for rule in rules():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]


def test_the_pages_the_issue_asks_for() -> None:
    pages = {
        rule["alert"]: rule["expr"] for rule in rules() if rule["labels"]["severity"] == "page"
    }
    assert "madoguchi_notifications_pending_oldest_age_seconds > 900" in pages.values()
    assert "madoguchi_attempts_unknown_oldest_age_seconds > 1800" in pages.values()
    assert "madoguchi_audit_verify_ok == 0" in pages.values()
    assert 'madoguchi_heartbeat_age_seconds{kind="worker"} > 60' in pages.values()


@pytest.mark.django_db
def test_rules_use_only_metrics_the_listeners_export(demo: dict[str, Any]) -> None:
    from django.utils import timezone

    now = timezone.now()
    Heartbeat.objects.create(name="w", kind="worker", started_at=now, seen_at=now)
    ScheduledJob.objects.create(
        name="madoguchi.platform.audit.services.audit_verify_sweep",
        next_run_at=now,
        last_finished_at=now,
        last_ok=True,
    )
    exported = set()
    for host in ("staff.shinsei.test", "console.kessai.test"):
        text = Client(HTTP_HOST=host).get("/metrics").content.decode()
        exported |= set(re.findall(r"^# TYPE (\w+) ", text, re.MULTILINE))
    for rule in rules():
        for name in re.findall(r"\b(madoguchi_\w+)", rule["expr"]):
            assert name in exported, f"{rule['alert']} uses {name}, which nothing exports"


def test_promtool_accepts_the_rules() -> None:
    if shutil.which("promtool") is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing (apt-get install prometheus)")
        pytest.skip("promtool not installed (apt-get install --no-install-recommends prometheus)")
    result = subprocess.run(  # noqa: S603
        [str(shutil.which("promtool")), "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
