"""Counting and blocking by key, in the database so that every process of a
listener (and every listener of a service) shares the counts.

Fixed windows: simple, and close enough for lockouts and abuse limits.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
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
    with transaction.atomic():
        try:
            with transaction.atomic():
                Throttle.objects.get_or_create(key=key, defaults={"window_start": now})
        except IntegrityError:  # created concurrently: fine, it exists now
            pass
        # A window that has passed starts again (conditional, so two
        # processes cannot both reset it after counting).
        Throttle.objects.filter(key=key, window_start__lte=now - window).update(
            window_start=now, count=0
        )
        Throttle.objects.filter(key=key).update(count=F("count") + 1)
        row = Throttle.objects.select_for_update().get(key=key)
        if row.blocked_until is not None and row.blocked_until > now:
            return False
        if row.count >= limit and block_for is not None:
            Throttle.objects.filter(pk=row.pk).update(blocked_until=now + block_for)
        return row.count <= limit


def throttle_clear(key: str) -> None:
    Throttle.objects.filter(key=key).delete()
