"""A fast keyed hash for secrets the system generates itself (the inquiry
password, draft links).

They carry far more entropy than a person's password, so Argon2id's cost,
which is there to slow the guessing of weak human passwords, buys nothing but
CPU on every submission and inquiry. HMAC-SHA-256 under a key from settings
(``SHINSEI_SECRET_HASH_KEY``; SECRET_KEY if unset) keeps a stolen database
alone from being brute-forced. Argon2id stays for staff passwords, and
inquiry passwords stored before this change (Argon2id) keep working.
"""

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

PREFIX = "hmac_sha256$"


def _key() -> str:
    return str(getattr(settings, "SHINSEI_SECRET_HASH_KEY", "") or settings.SECRET_KEY)


def keyed_hash(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA-256 of ``value``, its key bound to ``purpose``."""
    return salted_hmac(
        f"madoguchi.shinsei.{purpose}", value, secret=_key(), algorithm="sha256"
    ).hexdigest()


def secret_hash(value: str, *, purpose: str) -> str:
    """For a column that may also hold older hashes: marked with its scheme."""
    return PREFIX + keyed_hash(value, purpose=purpose)


def secret_matches(value: str, stored: str, *, purpose: str) -> bool | None:
    """True/False for a keyed hash; None when ``stored`` is of an older scheme
    (the caller checks it the old way)."""
    if not stored.startswith(PREFIX):
        return None
    return constant_time_compare(secret_hash(value, purpose=purpose), stored)
