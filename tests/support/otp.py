"""What an authenticator app would show: codes for a base32 secret (as the
set-up page gives it) or for an account's django-otp device."""

import time
from base64 import b32decode
from typing import Any

from django_otp.oath import hotp

from madoguchi.platform.otp import STEP, totp_key_base32


def totp_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP)


def totp_code(secret: str, step: int) -> str:
    """RFC 6238's code of ``secret`` (base32) at ``step``."""
    return f"{hotp(b32decode(secret), step):06d}"


def account_secret(account: Any) -> str:
    """The base32 secret of the account's authenticator ("" if none)."""
    device = account.totp_devices.filter(confirmed=True).first()
    return totp_key_base32(device.key) if device else ""


def totp_enrol(account: Any) -> str:
    """Set up an authenticator for ``account``; its base32 secret."""
    device = account.totp_devices.create(name="authenticator", confirmed=True)
    return totp_key_base32(device.key)
