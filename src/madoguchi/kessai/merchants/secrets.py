"""Notification secret rotation with two secrets active at once.

``notification_secret_rotate`` makes a new secret current and keeps the old
one signing as well (``Kessai-Signature`` then carries two ``v1`` entries), so
the merchant can switch its verifier over at leisure; once it has,
``notification_secret_retire_previous`` stops signing with the old one.
"""

import secrets

from django.db import transaction

from .models import Merchant


def notification_secret_rotate(*, merchant: Merchant) -> str:
    """Return the new secret (shown once to the merchant's operator)."""
    new_secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        Merchant.objects.filter(pk=locked.pk).update(
            notification_secret=new_secret,
            previous_notification_secret=locked.notification_secret,
        )
    merchant.refresh_from_db()
    return new_secret


def notification_secret_retire_previous(*, merchant: Merchant) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(previous_notification_secret="")
    merchant.refresh_from_db()
