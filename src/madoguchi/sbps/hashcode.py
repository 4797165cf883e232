"""``sps_hashcode``: SHA-1 over every field's value in the documented order,
each stripped of surrounding blanks, followed by the merchant's hash key,
encoded in the character set agreed with SBPS (Shift_JIS or UTF-8)."""

import hashlib
import hmac
from collections.abc import Iterable

# SBPS's names for the two documented encodings, and Python's codec for each:
# SBPS's Shift_JIS is Windows-31J (cp932), which also has ①, 髙 and ㈱.
ENCODINGS = {"Shift_JIS": "cp932", "UTF-8": "utf-8"}


def codec(encoding: str) -> str:
    try:
        return ENCODINGS[encoding]
    except KeyError:
        raise ValueError(f"SBPS documents Shift_JIS and UTF-8, not {encoding!r}") from None


def sps_hashcode(values: Iterable[str], hash_key: str, *, encoding: str) -> str:
    text = "".join(str(value).strip() for value in values) + hash_key
    return hashlib.sha1(text.encode(codec(encoding)), usedforsecurity=False).hexdigest()


def hashcode_matches(values: Iterable[str], hash_key: str, received: str, *, encoding: str) -> bool:
    """SBPS sends the hash in either case (the samples have both)."""
    expected = sps_hashcode(values, hash_key, encoding=encoding)
    return hmac.compare_digest(expected, received.strip().lower())
