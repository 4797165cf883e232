"""Kessai's figures for Prometheus (registered through
``MADOGUCHI_METRICS_COLLECTORS``; served on the console listener)."""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Min
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

        unknown = Attempt.objects.filter(status=Attempt.Status.UNKNOWN).aggregate(
            n=Count("pk"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily(
            "madoguchi_attempts_unknown",
            "Attempts whose outcome is unknown (the janitor asks the provider).",
            value=unknown["n"],
        )
        yield GaugeMetricFamily(
            "madoguchi_attempts_unknown_oldest_age_seconds",
            "Age of the oldest attempt whose outcome is unknown.",
            value=age_seconds(unknown["oldest"]),
        )

        pending = Notification.objects.filter(status=Notification.Status.PENDING).aggregate(
            n=Count("pk"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily(
            "madoguchi_notifications_pending",
            "Notifications not yet delivered.",
            value=pending["n"],
        )
        yield GaugeMetricFamily(
            "madoguchi_notifications_pending_oldest_age_seconds",
            "Age of the oldest notification not yet delivered.",
            value=age_seconds(pending["oldest"]),
        )
        yield GaugeMetricFamily(
            "madoguchi_notifications_given_up",
            "Notifications whose retries are spent (staff must follow up).",
            value=Notification.objects.filter(status=Notification.Status.GAVE_UP).count(),
        )
