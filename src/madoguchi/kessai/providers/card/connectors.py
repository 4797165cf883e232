"""Which connector a merchant's card payments go through: configuration
(``KESSAI_CARD_CONNECTOR__<CODE>`` or the merchant's row), not code.

- ``sandbox``: the acquirer sandbox (``acquirer.py``), for demos and tests;
- ``sbps_api``: SBPS's API type (``sbps.py``)."""

from typing import Any

from django.conf import settings

from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments.models import Attempt, Refund
from madoguchi.platform.conf import origin_of

from .sbps import SbpsCardConnector

SANDBOX = "sandbox"
SBPS_API = "sbps_api"


def merchant_setting(merchant: Merchant, name: str) -> Any:
    """The environment's value for this merchant wins over the stored one."""
    configured = settings.KESSAI_MERCHANT_SETTINGS.get(merchant.code, {})
    return configured.get(name) or getattr(merchant, name)


def _attempt_number(attempt_key: str) -> int | None:
    """``att_<payment>_<pk>`` -> pk."""
    number = attempt_key.rsplit("_", 1)[-1]
    return int(number) if number.isdigit() else None


def attempt_of(attempt_key: str) -> Attempt | None:
    """``att_<payment>_<pk>`` -> the attempt, with its payment and merchant."""
    number = _attempt_number(attempt_key)
    if number is None:
        return None
    return Attempt.objects.select_related("payment__merchant").filter(pk=number).first()


def sbps_connector(merchant: Merchant | None) -> SbpsCardConnector | None:
    if merchant is None or merchant_setting(merchant, "card_connector") != SBPS_API:
        return None
    return SbpsCardConnector.for_credentials(
        merchant_id=str(merchant_setting(merchant, "sbps_merchant_id")),
        service_id=str(merchant_setting(merchant, "sbps_service_id")),
        hash_key=str(merchant_setting(merchant, "sbps_hash_key")),
    )


def attempt_merchant(attempt_key: str) -> Merchant | None:
    # On every card payment: the merchant alone (one join, no ORDER BY), not
    # the attempt with its payment and merchant that attempt_of reads.
    number = _attempt_number(attempt_key)
    if number is None:
        return None
    rows = list(Merchant.objects.filter(payments__attempts__pk=number)[:1])
    return rows[0] if rows else None


def tracking_id_record(*, attempt_key: str, tracking_id: str) -> None:
    attempt = attempt_of(attempt_key)
    if attempt is not None:
        Attempt.objects.filter(pk=attempt.pk, provider_reference="").update(
            provider_reference=tracking_id
        )


def provider_reference_replace(*, attempt_key: str, old: str, new: str) -> bool:
    """Move an attempt's provider reference from ``old`` to ``new`` (a
    conditional update: only if nobody moved it meanwhile)."""
    number = _attempt_number(attempt_key)
    if number is None:
        return False
    return bool(
        Attempt.objects.filter(pk=number, provider_reference=old).update(provider_reference=new)
    )


def card_action_origins(merchant: Merchant) -> list[str]:
    """Origins the payment page's card form may end up on after its post: the
    page of SBPS's EMV 3-D Secure for a merchant on ``sbps_api`` (the citizen
    goes there straight from the card form; a frictionless authentication
    comes straight back)."""
    if merchant_setting(merchant, "card_connector") != SBPS_API:
        return []
    return [origin_of(settings.KESSAI_SBPS_TDS_URL or settings.KESSAI_SBPS_API_URL)]


def refund_of(refund_key: str) -> Refund | None:
    return (
        Refund.objects.select_related("attempt", "payment__merchant")
        .filter(public_id=refund_key)
        .first()
    )
