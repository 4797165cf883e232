"""Merchants and their API keys.

API keys follow GOV.UK Pay's idea: a recognisable prefix (so secret scanners
and people can tell what leaked), 256 random bits, and a checksum (so a
mistyped or truncated key is refused without a database look-up). Only the
SHA-256 is stored; the key is shown once. Rotation issues a new key and lets
the old ones work for an overlap, so a merchant can switch without downtime.
"""

import base64
import copy
import secrets
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from madoguchi.contract.client import CLIENT_CLASSES
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.throttle import throttle_load_limit

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
    api_key = _api_key_find(raw_key, ApiKey.hash_key(raw_key))
    return api_key.merchant if api_key else None


def _api_key_find(raw_key: str, key_hash: str) -> ApiKey | None:
    # Keys of the current format are checked offline first; keys issued
    # before it (no checksum) are still looked up until they are rotated.
    looks_current = (
        raw_key.startswith(API_KEY_PREFIX)
        and len(raw_key) == len(API_KEY_PREFIX) + _BODY_LENGTH + _CHECK_LENGTH
    )
    if looks_current and not api_key_checksum_ok(raw_key):
        return None
    now = timezone.now()
    # key_hash is unique: at most one row, nothing to order.
    rows = list(
        ApiKey.objects.select_related("merchant")
        .filter(key_hash=key_hash, merchant__is_active=True)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))[:1]
    )
    return rows[0] if rows else None


class _KeyCache:
    """Recently authenticated keys of this process: key hash -> (merchant,
    the key's ``revoked_at``, when the entry goes stale).

    A merchant API request spent more CPU on the ORM building the key-and-
    merchant query than on its own work (docs/benchmarks.md). An entry lives
    ``MADOGUCHI_API_KEY_CACHE_SECONDS`` (10 by default); revoking or rotating
    a key, or ending a contract, empties this process's cache at once, and
    the other processes' within that time at most (docs/security.md). A
    rotation's overlap end (``revoked_at`` in the future) is kept with the
    entry and checked on every hit, so it is exact."""

    MAX_ENTRIES = 1000

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Merchant, datetime | None, float]] = {}
        self.lock = threading.Lock()

    def get(self, key_hash: str) -> Merchant | None:
        entry = self.entries.get(key_hash)
        if entry is None:
            return None
        merchant, revoked_at, stale_at = entry
        if time.monotonic() >= stale_at or (
            revoked_at is not None and revoked_at <= timezone.now()
        ):
            with self.lock:
                self.entries.pop(key_hash, None)
            return None
        # A copy per request: no request sees what another set on its instance.
        return copy.copy(merchant)

    def put(self, key_hash: str, merchant: Merchant, revoked_at: datetime | None) -> None:
        seconds = float(getattr(settings, "MADOGUCHI_API_KEY_CACHE_SECONDS", 10))
        if seconds <= 0:
            return
        with self.lock:
            if len(self.entries) >= self.MAX_ENTRIES:
                self.entries.clear()
            self.entries[key_hash] = (merchant, revoked_at, time.monotonic() + seconds)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_key_cache = _KeyCache()


def api_key_cache_clear() -> None:
    """Forget this process's authenticated keys (after a revocation, a
    rotation, a contract's end): now, and again when the transaction commits,
    in case a request cached the row as it was before the commit."""
    _key_cache.clear()
    transaction.on_commit(_key_cache.clear)


def api_key_authenticate_cached(raw_key: str) -> Merchant | None:
    """``api_key_authenticate`` for the merchant API's hot path: a key seen
    in the last few seconds is not looked up again (see ``_KeyCache``)."""
    key_hash = ApiKey.hash_key(raw_key)
    merchant = _key_cache.get(key_hash)
    if merchant is not None:
        return merchant
    api_key = _api_key_find(raw_key, key_hash)
    if api_key is None:
        return None
    _key_cache.put(key_hash, copy.copy(api_key.merchant), api_key.revoked_at)
    return api_key.merchant


def api_key_within_rate(raw_key: str, *, client_class: str = "") -> bool:
    """Counts one request for this key and caller class; False once that pair
    is over ``MADOGUCHI_API_RATE_PER_MINUTE``. Each class of a key's callers
    (``background`` jobs, ``interactive`` calls made for a citizen's click,
    ``other``) has its own budget, so one cannot starve another."""
    kind = client_class if client_class in CLIENT_CLASSES else "other"
    # A load limit on a key already authenticated: without the cache,
    # payments go on uncounted.
    return throttle_load_limit(
        f"api-key:{ApiKey.hash_key(raw_key)[:32]}:{kind}",
        limit=int(getattr(settings, "MADOGUCHI_API_RATE_PER_MINUTE", 600)),
        window=timedelta(minutes=1),
    )


def api_address_within_failure_rate(address: str) -> bool:
    """Counts one request with an unknown or revoked key from ``address``;
    False once that address is over ``MADOGUCHI_API_FAILURES_PER_MINUTE``."""
    # A load limit: keys are 256-bit random, not guessable in any number of
    # tries, and an unknown key is refused (401) with or without the cache.
    return throttle_load_limit(
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
        api_key_cache_clear()
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
        card_connector=settings.KESSAI_DEFAULT_CARD_CONNECTOR,
    )
    return merchant, api_key_issue(merchant=merchant)


def api_key_revoke(*, api_key: ApiKey) -> None:
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)
    ).update(revoked_at=now)
    api_key_cache_clear()
