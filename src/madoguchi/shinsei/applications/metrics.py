"""Shinsei's figures for Prometheus (served on the staff listener)."""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .models import Application

PaymentStatus = Application.PaymentStatus


class ShinseiCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "madoguchi_applications_payment",
            "Applications whose payment is not finished, by payment status.",
            labels=["payment_status"],
        )
        for row in (
            Application.objects.filter(
                payment_status__in=[PaymentStatus.PREPARING, PaymentStatus.UNPAID]
            )
            .values("payment_status")
            .annotate(n=Count("pk"))
        ):
            waiting.add_metric([row["payment_status"]], row["n"])
        yield waiting
        yield GaugeMetricFamily(
            "madoguchi_payment_requests_stuck",
            "Applications accepted over 5 minutes ago whose payment Kessai has not created.",
            value=Application.objects.filter(
                payment_status=PaymentStatus.PREPARING,
                kessai_payment_id="",
                payment_requested_at__lt=timezone.now() - timedelta(minutes=5),
            ).count(),
        )
