"""The second factor on django-otp: TOTP devices and recovery codes (static
tokens), each with django-otp's throttling (``ThrottlingMixin``: after each
failure the device refuses every code, right or wrong, for an exponentially
growing delay).

Why abstract devices and not django-otp's ``TOTPDevice`` and ``StaticDevice``:
their ``user`` points at ``settings.AUTH_USER_MODEL``, of which a process has
one. Production runs each service in its own process, but the combined test
process (tests/settings.py) serves Shinsei's staff and Kessai's console side
by side, and the console's accounts could not own a device there. So each
service declares concrete devices whose ``user`` names its own account model
(``shinsei/staff/models.py``, ``kessai/console/models.py``), built on
django-otp's abstract ``Device``, ``ThrottlingMixin`` and ``TimestampMixin``
and its RFC 6238 implementation (``django_otp.oath.TOTP``); what is left here
is the verification glue that ``TOTPDevice`` and ``StaticDevice`` carry.
"""

import hashlib
import secrets
from base64 import b32encode
from binascii import unhexlify
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

STEP = 30
DIGITS = 6
# One step either side absorbs clock drift between the phone and the server.
TOLERANCE = 1
RECOVERY_CODES = 10


def totp_new_key() -> str:
    """A new secret in django-otp's form (hex, 20 bytes as RFC 6238's SHA-1)."""
    return str(random_hex(20))


def totp_key_base32(key: str) -> str:
    """The secret as authenticator apps take it when typed in."""
    return b32encode(unhexlify(key)).decode()


def totp_check(key: str, code: str, *, min_t: int = 0, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to (at ``min_t`` or later), or None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = TOTP(unhexlify(key), STEP, 0, DIGITS, 0)
    if at is not None:
        totp.time = at
    if not totp.verify(int(code), TOLERANCE, min_t):
        return None
    return int(totp.t())


def totp_uri(key: str, *, account_name: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account_name}")
    query = urlencode(
        {"secret": totp_key_base32(key), "issuer": issuer, "digits": DIGITS, "period": STEP}
    )
    return f"otpauth://totp/{label}?{query}"


def totp_qr_data_uri(uri: str) -> str:
    # A data: URI, which the strict CSP allows for images (no inline script).
    return str(segno.make(uri, error="m").svg_data_uri(scale=4))


def recovery_codes_new() -> list[str]:
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]


def recovery_code_hash(code: str) -> str:
    # Codes carry ~50 random bits each and are single-use: a fast hash is
    # enough, and only the hash is stored (django-otp's StaticToken keeps the
    # code itself).
    normalized = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


class AbstractTOTPDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """django-otp's ``TOTPDevice`` with this project's fixed parameters
    (30-second steps, 6 digits, one step of drift either way)."""

    key = models.CharField(max_length=80, default=totp_new_key)
    # The step of the last accepted code: a code is good once.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):  # type: ignore[misc]
        abstract = True

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key)

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        """Callers hold the row lock (``select_for_update``): two requests
        with one code cannot both pass."""
        if not self.verify_is_allowed()[0]:
            return False
        step = totp_check(self.key, str(token), min_t=self.last_t + 1)
        if step is None:
            self.throttle_increment(commit=True)
            return False
        self.last_t = step
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class AbstractRecoveryDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """django-otp's ``StaticDevice``, its tokens stored as hashes."""

    class Meta(Device.Meta):  # type: ignore[misc]
        abstract = True

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        if not self.verify_is_allowed()[0]:
            return False
        # A conditional delete: a code is used once, however many requests carry it.
        deleted, _ = self.token_set.filter(token=recovery_code_hash(str(token))).delete()
        if not deleted:
            self.throttle_increment(commit=True)
            return False
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class AbstractRecoveryToken(models.Model):
    # SHA-256 of the code (``recovery_code_hash``).
    token = models.CharField(max_length=64, db_index=True)

    class Meta:
        abstract = True
