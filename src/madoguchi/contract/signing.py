"""Notification signatures: ``Kessai-Signature: t=<unix>,v1=<hex>[,v1=<hex>]``.

The MAC is HMAC-SHA256 over ``f"{t}.{body}"``. Several ``v1`` entries are
allowed so a merchant can rotate its secret with two active at once; the
timestamp bounds replay to ``tolerance`` seconds.
"""

import hashlib
import hmac
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "Kessai-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    pass


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secrets: Iterable[str], *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    parts = [f"t={timestamp}"] + [f"v1={_mac(s, timestamp, body)}" for s in secrets]
    if len(parts) == 1:
        raise ValueError("at least one secret is needed to sign")
    return ",".join(parts)


def verify(
    header: str,
    body: bytes,
    secrets: Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> int:
    """Return the signed timestamp, or raise SignatureError."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise SignatureError("malformed timestamp") from exc
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("missing timestamp or signature")
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside tolerance")
    for secret in secrets:
        expected = _mac(secret, timestamp, body)
        # compare_digest refuses non-ASCII text (a header may carry any byte).
        if any(c.isascii() and hmac.compare_digest(expected, c) for c in candidates):
            return timestamp
    raise SignatureError("no signature matches")
