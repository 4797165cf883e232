"""Counting and blocking by key, through Django's cache framework.

Every count is one atomic increment on a key that names its window
(``throttle:<key>:<window number>``), so concurrent requests never wait on
each other and never lose a count: Redis ``INCR`` in production
(``MADOGUCHI_CACHE_URL=redis://…``, shared by every process of a service), the
local-memory cache's locked increment on the embedded default (one process per
listener). Keys expire with their window, so nothing needs sweeping.

Fixed windows: simple, and close enough for lockouts and abuse limits.

When the cache cannot be reached every function here raises
``CacheUnavailable`` (nothing counted): a caller whose limit guards a secret
lets it through (a styled 503), one whose limit only spreads load catches it
and goes on (platform/cache.py; docs/operations.md).
"""

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse

from .cache import CacheUnavailable, cache_required

CACHE_ALIAS = "default"


def _cache() -> BaseCache:
    return caches[CACHE_ALIAS]


def _now() -> float:
    """The clock the windows follow (tests move it)."""
    return time.time()


def _block_key(key: str) -> str:
    return f"throttle-block:{key}"


def throttle_blocked(key: str) -> bool:
    """True while ``key`` is blocked (a lockout in force)."""
    with cache_required("throttle"):
        until = _cache().get(_block_key(key))
    return until is not None and float(until) > _now()


# INCR, and on the window's first event EXPIRE: one script, so nothing runs
# (and the counter cannot be left without a lifetime) between the two.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _redis_count(cache: RedisCache, counter: str, seconds: int) -> int:
    """One round trip: ``INCR`` and, when it created the counter, ``EXPIRE``
    in one Lua script (``EVALSHA``; redis-py loads it again if the server has
    forgotten it). Django's ``incr`` asks ``EXISTS`` first (two round trips);
    a MULTI/EXEC pipeline of ``SET NX EX`` and ``INCR`` is one round trip but
    costs the client half again as much CPU. ``INCR`` stores the count as
    Django's Redis serializer stores an int, so ``cache.get`` reads it."""
    key = cache.make_and_validate_key(counter)
    # Django builds a new Redis client object on every call (its pool is
    # shared); the cache object is this thread's own, so keep the client and
    # its registered script on it.
    script = cache.__dict__.get("_throttle_script")
    if script is None:
        client = cache._cache.get_client(key, write=True)
        script = cache.__dict__["_throttle_script"] = client.register_script(_COUNT_SCRIPT)
    return int(script(keys=[key], args=[seconds]))


def throttle_hit(
    key: str, *, limit: int, window: timedelta, block_for: timedelta | None = None
) -> bool:
    """Count one event for ``key``; True if it is still within ``limit`` for
    the current window. When the count reaches ``limit`` and ``block_for`` is
    given, the key is blocked for that long (a lockout)."""
    with cache_required("throttle"):
        return _hit(key, limit=limit, window=window, block_for=block_for)


def _hit(key: str, *, limit: int, window: timedelta, block_for: timedelta | None) -> bool:
    cache = _cache()
    seconds = max(1, int(window.total_seconds()))
    counter = f"throttle:{key}"
    if isinstance(cache, RedisCache):
        count = _redis_count(cache, counter, seconds)
    else:
        # Counting a running window is one incr() (atomic under the local-
        # memory cache's lock; it keeps the counter's lifetime). The first
        # event of a window creates the counter with the window as its
        # lifetime; add() does nothing if a concurrent request created it first.
        try:
            count = cache.incr(counter)
        except ValueError:
            count = 1 if cache.add(counter, 1, timeout=seconds) else cache.incr(counter)
    if block_for is None:  # a rate limit: nothing is ever blocked
        return bool(count <= limit)
    # The count alone decides, never the block: a concurrent event that took
    # the last place sets the block between this event's increment and any
    # look at the block, and this event, counted within the limit, would be
    # refused with its place taken (fewer than ``limit`` let through). Callers
    # look at throttle_blocked() before counting.
    if count >= limit:
        block_seconds = block_for.total_seconds()
        cache.set(_block_key(key), _now() + block_seconds, timeout=int(block_seconds) + 1)
        # The count lives as long as the block: a block that has been served
        # starts a fresh count.
        cache.touch(counter, timeout=int(block_seconds) + 1)
    return bool(count <= limit)


def throttle_load_limit(key: str, *, limit: int, window: timedelta) -> bool:
    """``throttle_hit`` for a limit that only spreads load (no secret behind
    it): while the cache is away nothing is counted and the event goes on."""
    try:
        return throttle_hit(key, limit=limit, window=window)
    except CacheUnavailable:
        return True


def throttle_release(key: str, *, limit: int) -> None:
    """Give back one event counted by ``throttle_hit`` before the outcome was
    known (an attempt that turned out right, or was refused by another count);
    lifts a block that event set. One atomic decrement: concurrent attempts
    keep their own places."""
    cache = _cache()
    with cache_required("throttle"):
        try:
            count = cache.decr(f"throttle:{key}")
        except ValueError:  # the window ended meanwhile: nothing to give back
            return
        if count < limit:
            cache.delete(_block_key(key))


def throttle_hit_all(
    keys: list[str], *, limit: int, window: timedelta, block_for: timedelta | None = None
) -> bool:
    """Count one event on each of ``keys`` in turn (e.g. the address, then the
    account); True if every count is within ``limit``. A key over its limit
    stops the round: the later keys are not counted and the earlier ones get
    their place back, so concurrent events sharing the keys are let through
    in one order, exactly ``limit`` of them (counting every key regardless
    could give two events each one key's last place, and let fewer through)."""
    for done, key in enumerate(keys):
        if not throttle_hit(key, limit=limit, window=window, block_for=block_for):
            for earlier in keys[:done]:
                throttle_release(earlier, limit=limit)
            return False
    return True


def throttle_clear(key: str) -> None:
    """Forget ``key``'s count and any block on it."""
    with cache_required("throttle"):
        _cache().delete_many([f"throttle:{key}", _block_key(key)])


TOO_MANY = "試行回数が上限に達しました。しばらくしてからお試しください。"


def failures_limited(
    scope: str,
    *,
    fields: tuple[str, ...] = (),
    limit: int = 10,
    window: timedelta = timedelta(minutes=30),
    failure_statuses: tuple[int, ...] = (400, 401, 403),
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator for POSTs that check a secret (the 整理番号 + password
    inquiry): after ``limit`` failed answers from one address, or for one
    value of each of ``fields`` (e.g. one 整理番号 tried from many addresses),
    answer 429 for ``window``. Without the cache the check fails closed: 503
    "temporarily unavailable", never an unlimited guess."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            from .network import client_address

            keys = [f"{scope}:address:{client_address(request)}"]
            for field in fields:
                value = "".join(str(request.POST.get(field, "")).split()).replace("-", "")[:64]
                if value:
                    keys.append(f"{scope}:{field}:{value}")
            if any(throttle_blocked(key) for key in keys):
                return HttpResponse(TOO_MANY, status=429, content_type="text/plain; charset=utf-8")
            response = view(request, *args, **kwargs)
            if response.status_code in failure_statuses:
                for key in keys:
                    throttle_hit(key, limit=limit, window=window, block_for=window)
            return response

        return wrapped

    return decorator
