"""Kessai's figures for Prometheus (registered through
``MADOGUCHI_METRICS_COLLECTORS``; served on the console listener)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from madoguchi.platform.metrics import age_seconds

from .models import Attempt, Notification, Payment

DELIVERIES = Counter(
    "madoguchi_notification_deliveries_total",
    "Notification delivery tries by outcome (delivered, failed, gave_up).",
    ["outcome"],
)


def _waiting(queryset: QuerySet[Any], name: str, what: str) -> Iterator[Metric]:
    """How many rows wait, and how long the oldest has waited."""
    figures = queryset.aggregate(n=Count("pk"), oldest=Min("created_at"))
    yield GaugeMetricFamily(name, what.capitalize() + ".", value=figures["n"])
    yield GaugeMetricFamily(
        f"{name}_oldest_age_seconds",
        f"Age of the oldest of the {what}.",
        value=age_seconds(figures["oldest"]),
    )


class KessaiCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        payments = GaugeMetricFamily(
            "madoguchi_payments",
            "Payments created in the last 24 hours, by status and method.",
            labels=["status", "method"],
        )
        for row in (
            Payment.objects.filter(created_at__gte=now - timedelta(days=1))
            .values("status", "method")
            .annotate(n=Count("pk"))
        ):
            payments.add_metric([row["status"], row["method"] or "none"], row["n"])
        yield payments

        yield from _waiting(
            Attempt.objects.filter(status=Attempt.Status.UNKNOWN),
            "madoguchi_attempts_unknown",
            "attempts whose outcome is unknown (the janitor asks the provider)",
        )
        yield from _waiting(
            Notification.objects.filter(status=Notification.Status.PENDING),
            "madoguchi_notifications_pending",
            "notifications not yet delivered",
        )
        yield GaugeMetricFamily(
            "madoguchi_notifications_given_up",
            "Notifications whose retries are spent (staff must follow up).",
            value=Notification.objects.filter(status=Notification.Status.GAVE_UP).count(),
        )
