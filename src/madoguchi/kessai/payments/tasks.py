"""Notification delivery: at least once, byte-identical retries, back-off over days."""

import logging
import time
from datetime import timedelta

import httpx
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from madoguchi.contract.signing import SIGNATURE_HEADER, sign
from madoguchi.platform.http import kept_client
from madoguchi.platform.logs import current_request_id, outbound_headers
from madoguchi.platform.tasks import backoff_delay, enqueue_later

from .metrics import DELIVERIES
from .models import Notification, NotificationDelivery

logger = logging.getLogger(__name__)

# While one worker delivers, others leave the notification alone this long.
DELIVERY_LEASE = timedelta(seconds=60)


def _claim(notification_id: int) -> Notification | None:
    """Take the lease on a due notification, or None if not due or taken."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=Notification.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + DELIVERY_LEASE)
    if not claimed:
        return None
    return Notification.objects.select_related("merchant").get(pk=notification_id)


def notification_deliver(notification_id: int) -> bool:
    notification = _claim(notification_id)
    if notification is None:
        return False
    body = notification.body.encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, notification.merchant.signing_secrets()),
        "Kessai-Event-Id": notification.event_id,
        **outbound_headers(),
    }
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        # Kept open per worker thread: the next delivery to this merchant
        # reuses the connection.
        response = kept_client().post(
            notification.merchant.notification_url, content=body, headers=headers
        )
        status_code = response.status_code
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    delivered = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        NotificationDelivery.objects.create(
            notification=notification,
            response_status=status_code,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        attempts = notification.attempts + 1
        if delivered:
            DELIVERIES.labels("delivered").inc()
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.DELIVERED,
                attempts=attempts,
                delivered_at=timezone.now(),
            )
            return True
        delay = backoff_delay(notification.attempts)
        DELIVERIES.labels("failed" if delay is not None else "gave_up").inc()
        if delay is None:
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.GAVE_UP, attempts=attempts
            )
            logger.error("gave up delivering %s", notification.event_id)
            return False
        Notification.objects.filter(pk=notification.pk).update(
            attempts=attempts, next_attempt_at=timezone.now() + delay
        )
        enqueue_later(
            deliver_notification,
            delay,
            notification_id=notification.pk,
            request_id=current_request_id(),
        )
    return False


@task()
def deliver_notification(notification_id: int, request_id: str = "") -> bool:
    """``request_id``: of the request that made the notification, sent along
    so both services' logs show it."""
    return notification_deliver(notification_id)


def notifications_sweep() -> None:
    """Re-enqueue deliveries whose task was lost (a crash after the retry
    was computed but before it was queued). Harmless if the task exists:
    the lease in ``_claim`` lets only one of them deliver."""
    overdue = Notification.objects.filter(
        status=Notification.Status.PENDING,
        next_attempt_at__lt=timezone.now() - timedelta(minutes=2),
    ).values_list("pk", flat=True)[:200]
    for notification_id in overdue:
        deliver_notification.enqueue(notification_id=notification_id)


@task()
def void_attempt(attempt_id: int, tries: int = 0) -> bool:
    """Reverse a charge on an ended payment; retried with back-off."""
    from madoguchi.kessai.providers.base import ProviderUnavailable

    from .models import Attempt
    from .services import attempt_void

    attempt = Attempt.objects.select_related("payment").get(pk=attempt_id)
    try:
        attempt_void(attempt=attempt)
    except ProviderUnavailable:
        delay = backoff_delay(tries)
        if delay is None:
            logger.error("gave up voiding attempt %s", attempt_id)
            return False
        enqueue_later(void_attempt, delay, attempt_id=attempt_id, tries=tries + 1)
        return False
    return True


def payments_sweep() -> None:
    from .services import (
        attempts_settle_unknown,
        checkout_tokens_prune,
        idempotency_sweep,
        payments_expire_due,
        refunds_settle_pending,
    )

    attempts_settle_unknown()
    refunds_settle_pending()
    payments_expire_due()
    checkout_tokens_prune()
    idempotency_sweep()
