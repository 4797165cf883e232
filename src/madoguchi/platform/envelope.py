"""Envelope encryption: data sealed with AES-256-GCM under a data key, the
data key stored wrapped (AES-256-GCM again) by a key-encryption key (KEK)
from configuration. Rotating the KEK re-wraps data keys without touching the
data; destroying a wrapped data key makes everything sealed under it
unreadable, in the database, in the file store and in every backup of them.

A wrapped key is stored as text, ``<kek id>$<base64(nonce || ciphertext)>``,
so rows still wrapped by an old KEK are found with a prefix filter.
"""

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random per message (2^32 messages per key is far off)
FORMAT = b"\x01"  # sealed-data format version


class KeyUnavailable(Exception):
    """The data key is gone (shredded) or its KEK is not configured."""


@dataclass(frozen=True)
class Keyring:
    """KEKs by id; ``current`` wraps new data keys, the others only unwrap."""

    keys: dict[str, bytes]
    current: str


def keyring_parse(value: str) -> Keyring:
    """``id:base64key,id2:base64key`` (the first is current)."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        key_id, _, encoded = item.partition(":")
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if not key_id or "$" in key_id or len(key) != KEY_BYTES:
            raise ValueError(f"KEK {key_id!r}: expected id:base64 of {KEY_BYTES} bytes")
        keys[key_id] = key
    if not keys:
        raise ValueError("no key-encryption key configured")
    return Keyring(keys=keys, current=next(iter(keys)))


def kek_new_entry(key_id: str) -> str:
    """A fresh ``id:base64key`` entry for the configuration."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip('=')}"


def keyring() -> Keyring:
    ring: Keyring = settings.SHINSEI_DATA_KEYRING
    return ring


def data_key_new() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def data_key_wrap(key: bytes, *, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    nonce = os.urandom(NONCE_BYTES)
    wrapped = AESGCM(ring.keys[ring.current]).encrypt(nonce, key, _wrap_aad(ring.current))
    return f"{ring.current}${base64.b64encode(nonce + wrapped).decode()}"


def data_key_unwrap(wrapped: str, *, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring()
    key_id, _, encoded = wrapped.partition("$")
    if not encoded:
        raise KeyUnavailable("no data key (destroyed)")
    if key_id not in ring.keys:
        raise KeyUnavailable(f"key-encryption key {key_id!r} is not configured")
    raw = base64.b64decode(encoded)
    try:
        return AESGCM(ring.keys[key_id]).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _wrap_aad(key_id)
        )
    except InvalidTag as exc:
        raise KeyUnavailable(f"data key does not open with KEK {key_id!r}") from exc


def data_key_rewrap(wrapped: str, *, ring: Keyring | None = None) -> str:
    """The same data key, wrapped by the current KEK."""
    ring = ring or keyring()
    return data_key_wrap(data_key_unwrap(wrapped, ring=ring), ring=ring)


def seal(key: bytes, plaintext: bytes, *, purpose: str) -> bytes:
    """Encrypt; ``purpose`` is authenticated, so a value cannot be moved to
    another field or row and still open."""
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, purpose.encode())


def unseal(key: bytes, sealed: bytes | memoryview, *, purpose: str) -> bytes:
    sealed = bytes(sealed)
    if sealed[:1] != FORMAT:
        raise KeyUnavailable("not sealed data")
    body = sealed[1:]
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], purpose.encode())
    except InvalidTag as exc:
        raise KeyUnavailable("sealed data does not open with this key") from exc


def _wrap_aad(key_id: str) -> bytes:
    return f"madoguchi-data-key:{key_id}".encode()
