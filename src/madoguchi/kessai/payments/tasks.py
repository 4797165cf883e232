"""Notification delivery: at least once, byte-identical retries, back-off over days."""

import logging
import time
from datetime import timedelta

import httpx
from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from madoguchi.contract.signing import SIGNATURE_HEADER, sign
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.platform.http import kept_client
from madoguchi.platform.logs import current_request_id, outbound_headers
from madoguchi.platform.raw_insert import insert_parts
from madoguchi.platform.tasks import backoff_delay, enqueue_later

from .metrics import DELIVERIES
from .models import Notification, NotificationDelivery

logger = logging.getLogger(__name__)

# While one worker delivers, others leave the notification alone this long.
DELIVERY_LEASE = timedelta(seconds=60)


# The lease and the read in one statement: the notification, if it is due
# and nobody holds it, leased for DELIVERY_LEASE, with what its delivery
# needs of the merchant (scalar subqueries: SQLite's RETURNING may name only
# the updated table's columns).
_MERCHANT = f"(SELECT m.{{}} FROM {Merchant._meta.db_table} AS m WHERE m.id = merchant_id)"  # noqa: S608
_CLAIM_SQL = f"""
    UPDATE {Notification._meta.db_table} SET next_attempt_at = %s
    WHERE id = %s AND status = %s AND next_attempt_at <= %s
    RETURNING event_id, body, attempts, merchant_id,
        {_MERCHANT.format("notification_url")},
        {_MERCHANT.format("notification_secret")},
        {_MERCHANT.format("previous_notification_secret")}
"""  # noqa: S608 - table and column names from the code, values as parameters

# A success's delivery record and final status, one statement on PostgreSQL
# (a data-modifying CTE: both or neither, with no transaction around them).
_DELIVERED_SQL = f"""
    WITH delivery AS ({{delivery}})
    UPDATE {Notification._meta.db_table}
    SET status = %s, attempts = %s, delivered_at = %s
    WHERE id = %s
"""  # noqa: S608 - table names from the models, values as parameters


def _claim(notification_id: int) -> Notification | None:
    """Take the lease on a due notification, or None if not due or taken."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            [adapt(now + DELIVERY_LEASE), notification_id, Notification.Status.PENDING, adapt(now)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    event_id, body, attempts, merchant_id, url, secret, previous = row
    return Notification(
        pk=notification_id,
        event_id=event_id,
        body=body,
        attempts=attempts,
        merchant=Merchant(
            pk=merchant_id,
            notification_url=url,
            notification_secret=secret,
            previous_notification_secret=previous,
        ),
    )


def _record_delivered(notification: Notification, *, status_code: int, duration_ms: int) -> None:
    now = timezone.now()
    attempts = notification.attempts + 1
    delivery = NotificationDelivery(
        notification=notification, response_status=status_code, duration_ms=duration_ms
    )
    if connection.vendor == "postgresql":
        parts = insert_parts(delivery)
        with connection.cursor() as cursor:
            cursor.execute(
                _DELIVERED_SQL.format(delivery=parts.statement()),
                [*parts.params, Notification.Status.DELIVERED, attempts, now, notification.pk],
            )
        return
    with transaction.atomic():
        delivery.save(force_insert=True)
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.DELIVERED, attempts=attempts, delivered_at=now
        )


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
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and 200 <= status_code < 300:
        _record_delivered(notification, status_code=status_code, duration_ms=duration_ms)
        DELIVERIES.labels("delivered").inc()
        return True
    attempts = notification.attempts + 1
    delay = backoff_delay(notification.attempts)
    with transaction.atomic():
        NotificationDelivery.objects.create(
            notification=notification,
            response_status=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        if delay is None:
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.GAVE_UP, attempts=attempts
            )
        else:
            Notification.objects.filter(pk=notification.pk).update(
                attempts=attempts, next_attempt_at=timezone.now() + delay
            )
            enqueue_later(
                deliver_notification,
                delay,
                notification_id=notification.pk,
                request_id=current_request_id(),
            )
    DELIVERIES.labels("failed" if delay is not None else "gave_up").inc()
    if delay is None:
        logger.error("gave up delivering %s", notification.event_id)
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
