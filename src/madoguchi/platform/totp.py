"""TOTP second factor (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), as
every authenticator app speaks it, and single-use recovery codes."""

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

import segno

STEP = 30
DIGITS = 6
# One step either side absorbs clock drift between the phone and the server.
DRIFT_STEPS = 1
RECOVERY_CODES = 10


def totp_new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def totp_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP)


def totp_code(secret: str, step: int) -> str:
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def totp_match(secret: str, code: str, *, after_step: int, at: float | None = None) -> int | None:
    """The step ``code`` belongs to, if valid and later than ``after_step``
    (a code is accepted once: replaying it within its 90 s is refused)."""
    code = "".join(c for c in code if c.isdigit())
    if len(code) != DIGITS or not secret:
        return None
    now = totp_step(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if step > after_step and hmac.compare_digest(totp_code(secret, step), code):
            return step
    return None


def totp_uri(secret: str, *, account_name: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account_name}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP})
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
    # Codes carry ~50 random bits each and are single-use: a fast hash is enough.
    normalized = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()
