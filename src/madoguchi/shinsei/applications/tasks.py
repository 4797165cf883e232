import logging
from typing import Any

import httpx
from django.tasks import task

from madoguchi.contract.client import KessaiError
from madoguchi.platform.errors import ServiceUnavailable
from madoguchi.platform.logs import current_request_id
from madoguchi.platform.tasks import backoff_delay, enqueue_later
from madoguchi.shinsei.gateways.base import GatewayUnavailable

from . import services
from .models import Application

logger = logging.getLogger(__name__)

# Failures that pass: Kessai or a gateway unreachable or refusing for now, a
# dependency of this process (the cache) away. Each is tried again on the
# back-off schedule (first after 5 s), not left to the stuck-request sweep.
TRANSIENT = (httpx.HTTPError, KessaiError, GatewayUnavailable, ServiceUnavailable)


@task()
def request_payment(application_id: int, attempt: int = 0, request_id: str = "") -> bool:
    """Create the application's payment on Kessai, retrying with back-off.
    ``request_id``: of the acceptance, sent to Kessai for the logs."""
    try:
        return services.payment_request_send(application_id=application_id)
    except TRANSIENT as exc:
        if isinstance(exc, KessaiError) and not exc.is_retryable:
            logger.error("Kessai refused the payment for application %s: %s", application_id, exc)
            raise
        delay = backoff_delay(attempt)
        if delay is not None:
            enqueue_later(
                request_payment,
                delay,
                application_id=application_id,
                attempt=attempt + 1,
                request_id=current_request_id(),
            )
        raise


@task()
def check_payment(application_id: int, attempt: int = 0) -> None:
    """Ask Kessai about one application's payment (after a notification that
    did not match what we requested), retrying with back-off."""
    application = Application.objects.select_related("procedure__department__agency").get(
        pk=application_id
    )
    try:
        services.payment_status_refresh(application=application)
    except TRANSIENT:
        delay = backoff_delay(attempt)
        if delay is not None:
            enqueue_later(check_payment, delay, application_id=application_id, attempt=attempt + 1)
        raise


@task()
def send_citizen_mail(mail_id: int, attempt: int = 0) -> bool:
    """Send a queued email to the citizen, retrying with back-off."""
    from .emails import citizen_mail_send

    try:
        return citizen_mail_send(mail_id=mail_id)
    except OSError:
        delay = backoff_delay(attempt)
        if delay is not None:
            enqueue_later(send_citizen_mail, delay, mail_id=mail_id, attempt=attempt + 1)
        raise


@task()
def send_refund(refund_id: int, attempt: int = 0) -> bool:
    """Send an approved refund through its gateway, retrying with back-off
    (a retry never refunds twice: ``refunds.refund_send``)."""
    from .refunds import refund_send

    try:
        refund_send(refund_id=refund_id)
        return True
    except TRANSIENT as exc:
        _retry_later(send_refund, attempt, exc, refund_id=refund_id)
        raise


@task()
def cancel_payment(application_id: int, attempt: int = 0) -> bool:
    """Cancel the payment of a withdrawn or rejected application at its
    gateway, retrying with back-off (an attempt in progress settles first)."""
    from .refunds import payment_cancel_send

    try:
        return payment_cancel_send(application_id=application_id)
    except TRANSIENT as exc:
        _retry_later(cancel_payment, attempt, exc, application_id=application_id)
        raise


def _retry_later(task_: Any, attempt: int, exc: Exception, **kwargs: Any) -> None:
    if isinstance(exc, KessaiError) and not exc.is_retryable:
        logger.error("Kessai refused %s %s: %s", task_, kwargs, exc)
        return
    delay = backoff_delay(attempt)
    if delay is not None:
        enqueue_later(task_, delay, attempt=attempt + 1, **kwargs)
