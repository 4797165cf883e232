"""What each use of Django's cache does when the cache cannot be reached.

In production the cache is Redis (``MADOGUCHI_CACHE_URL``); it keeps counts
and short-lived flags, never the only copy of anything a citizen or a payment
needs. Each use decides whether it fails closed or open (docs/operations.md,
"When the cache is away"): a check that guards a secret (a login, the
整理番号 + password inquiry) refuses with a styled 503 rather than check
without its limit; a limit that only spreads load (the merchant API's rate,
the per-address upload count, Shinsei's pause after Kessai's 429) is skipped,
so citizens keep paying and tasks keep running.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import caches
from redis.exceptions import RedisError

from .errors import ServiceUnavailable

logger = logging.getLogger(__name__)

# What an unreachable, refusing or timed-out cache raises through Django's
# cache API (redis-py's errors; OSError for a socket that failed underneath).
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


class CacheUnavailable(ServiceUnavailable):
    """The cache could not be reached: nothing was read, counted or stored."""


@contextmanager
def cache_required(what: str) -> Iterator[None]:
    """Inside, a cache that cannot be reached raises ``CacheUnavailable``
    (answered 503 "temporarily unavailable" by every listener)."""
    try:
        yield
    except CACHE_ERRORS as exc:
        logger.warning("cache unavailable (%s): %s", what, type(exc).__name__)
        raise CacheUnavailable(what) from exc


def cache_state(alias: str = "default") -> str:
    """``"ok"`` when the cache answers a round trip, else why not (/readyz)."""
    cache = caches[alias]
    try:
        cache.get("readyz-probe")
    except CACHE_ERRORS as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"
