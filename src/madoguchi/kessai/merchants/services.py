"""Merchants and their API keys.

API keys follow GOV.UK Pay's idea: a recognisable prefix (so secret scanners
and people can tell what leaked), 256 random bits, and a checksum (so a
mistyped or truncated key is refused without a database look-up). Only the
SHA-256 is stored; the key is shown once. Rotation issues a new key and lets
the old ones work for an overlap, so a merchant can switch without downtime.
"""

import base64
import secrets
import zlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from madoguchi.contract.client import CLIENT_CLASSES
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.throttle import throttle_hit

from .models import ApiKey, Merchant

API_KEY_PREFIX = "kessai_"
_BODY_LENGTH = 52  # base32 of 32 random bytes, without padding
_CHECK_LENGTH = 7  # base32 of a CRC-32
DEFAULT_OVERLAP = timedelta(days=7)


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _checksum(body: str) -> str:
    return _b32(zlib.crc32(f"{API_KEY_PREFIX}{body}".encode()).to_bytes(4, "big"))


def api_key_checksum_ok(raw: str) -> bool:
    """True if ``raw`` has the current format and its checksum matches."""
    if not raw.startswith(API_KEY_PREFIX):
        return False
    rest = raw.removeprefix(API_KEY_PREFIX)
    if len(rest) != _BODY_LENGTH + _CHECK_LENGTH:
        return False
    body, check = rest[:_BODY_LENGTH], rest[_BODY_LENGTH:]
    return secrets.compare_digest(_checksum(body), check)


def api_key_issue(*, merchant: Merchant) -> IssuedApiKey:
    body = _b32(secrets.token_bytes(32))
    raw = f"{API_KEY_PREFIX}{body}{_checksum(body)}"
    api_key = ApiKey.objects.create(
        merchant=merchant, prefix=raw[:16], key_hash=ApiKey.hash_key(raw)
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw)


def api_key_authenticate(raw_key: str) -> Merchant | None:
    # Keys of the current format are checked offline first; keys issued
    # before it (no checksum) are still looked up until they are rotated.
    looks_current = (
        raw_key.startswith(API_KEY_PREFIX)
        and len(raw_key) == len(API_KEY_PREFIX) + _BODY_LENGTH + _CHECK_LENGTH
    )
    if looks_current and not api_key_checksum_ok(raw_key):
        return None
    now = timezone.now()
    api_key = (
        ApiKey.objects.select_related("merchant")
        .filter(key_hash=ApiKey.hash_key(raw_key), merchant__is_active=True)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
        .first()
    )
    return api_key.merchant if api_key else None


def api_key_within_rate(raw_key: str, *, client_class: str = "") -> bool:
    """Counts one request for this key and caller class; False once that pair
    is over ``MADOGUCHI_API_RATE_PER_MINUTE``. Each class of a key's callers
    (``background`` jobs, ``interactive`` calls made for a citizen's click,
    ``other``) has its own budget, so one cannot starve another."""
    kind = client_class if client_class in CLIENT_CLASSES else "other"
    return throttle_hit(
        f"api-key:{ApiKey.hash_key(raw_key)[:32]}:{kind}",
        limit=int(getattr(settings, "MADOGUCHI_API_RATE_PER_MINUTE", 600)),
        window=timedelta(minutes=1),
    )


def api_address_within_failure_rate(address: str) -> bool:
    """Counts one request with an unknown or revoked key from ``address``;
    False once that address is over ``MADOGUCHI_API_FAILURES_PER_MINUTE``."""
    return throttle_hit(
        f"api-address:{address}",
        limit=int(getattr(settings, "MADOGUCHI_API_FAILURES_PER_MINUTE", 60)),
        window=timedelta(minutes=1),
    )


def api_key_rotate(
    *, merchant: Merchant, actor: str, overlap: timedelta = DEFAULT_OVERLAP
) -> IssuedApiKey:
    """A new key; the merchant's current keys keep working for ``overlap``."""
    with transaction.atomic():
        ends = timezone.now() + overlap
        ApiKey.objects.filter(merchant=merchant).filter(
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=ends)
        ).update(revoked_at=ends)
        issued = api_key_issue(merchant=merchant)
        audit_record(
            actor=actor,
            event="api_key.rotate",
            resource=f"merchant:{merchant.code}",
            detail={"new_key": issued.api_key.prefix, "old_keys_end": ends.isoformat()},
        )
    return issued


@transaction.atomic
def merchant_create(
    *, code: str, display_name: str, notification_url: str, notification_secret: str | None = None
) -> tuple[Merchant, IssuedApiKey]:
    merchant = Merchant.objects.create(
        code=code,
        display_name=display_name,
        notification_url=notification_url,
        notification_secret=notification_secret or secrets.token_urlsafe(32),
    )
    return merchant, api_key_issue(merchant=merchant)


def api_key_revoke(*, api_key: ApiKey) -> None:
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)
    ).update(revoked_at=now)
