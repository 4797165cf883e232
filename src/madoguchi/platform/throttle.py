"""Counting and blocking by key, in the database so that every process of a
listener (and every listener of a service) shares the counts.

Fixed windows: simple, and close enough for lockouts and abuse limits.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Throttle


def throttle_blocked(key: str) -> bool:
    """True while ``key`` is blocked (a lockout in force)."""
    return Throttle.objects.filter(key=key, blocked_until__gt=timezone.now()).exists()


def throttle_hit(
    key: str, *, limit: int, window: timedelta, block_for: timedelta | None = None
) -> bool:
    """Count one event for ``key``; True if it is still within ``limit`` for
    the current window. When the count reaches ``limit`` and ``block_for`` is
    given, the key is blocked for that long (a lockout)."""
    now = timezone.now()
    # A window that has passed, or a block that has been served, starts afresh.
    expired = Q(window_start__lte=now - window) | Q(blocked_until__lte=now)
    with transaction.atomic():
        # One conditional UPDATE counts the event, starting a new window if
        # the last one has passed; concurrent processes cannot lose a count.
        updated = Throttle.objects.filter(key=key).update(
            count=Case(When(expired, then=Value(1)), default=F("count") + 1),
            window_start=Case(When(expired, then=Value(now)), default=F("window_start")),
            blocked_until=Case(When(expired, then=Value(None)), default=F("blocked_until")),
        )
        if not updated:
            try:
                with transaction.atomic():
                    Throttle.objects.create(key=key, window_start=now, count=1)
            except IntegrityError:  # created concurrently: count on that row
                Throttle.objects.filter(key=key).update(count=F("count") + 1)
        row = Throttle.objects.get(key=key)
        if row.blocked_until is not None and row.blocked_until > now:
            return False
        if row.count >= limit and block_for is not None:
            Throttle.objects.filter(pk=row.pk).update(blocked_until=now + block_for)
        return row.count <= limit


def throttle_release(key: str, *, limit: int) -> None:
    """Give back one event counted by ``throttle_hit`` before the outcome was
    known (an attempt that turned out right); lifts a block that event set."""
    Throttle.objects.filter(key=key, count__gt=0).update(
        count=F("count") - 1,
        blocked_until=Case(When(count__lte=limit, then=Value(None)), default=F("blocked_until")),
    )


def throttle_clear(key: str) -> None:
    Throttle.objects.filter(key=key).delete()


def throttle_sweep(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete counters whose window and block have long passed, so that
    addresses and keys an attacker rotates through do not pile up."""
    cutoff = timezone.now() - older_than
    stale = Throttle.objects.filter(window_start__lt=cutoff).exclude(blocked_until__gte=cutoff)
    deleted, _ = stale.delete()
    return deleted


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
    answer 429 for ``window``."""

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
