import logging

import httpx
from django.tasks import task

from madoguchi.contract.client import KessaiError
from madoguchi.platform.logs import current_request_id
from madoguchi.platform.tasks import backoff_delay, enqueue_later

from . import services

logger = logging.getLogger(__name__)


@task()
def request_payment(application_id: int, attempt: int = 0, request_id: str = "") -> bool:
    """Create the application's payment on Kessai, retrying with back-off.
    ``request_id``: of the acceptance, sent to Kessai for the logs."""
    try:
        return services.payment_request_send(application_id=application_id)
    except (httpx.HTTPError, KessaiError) as exc:
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
