"""Apple Pay payment token verification and ``EC_v1`` decryption, following
Apple's "Payment token format reference":

1. the signature's certificates: a leaf with OID 1.2.840.113635.100.6.29 and
   an intermediate with OID 1.2.840.113635.100.6.2.14, chained to the
   configured root (Apple Root CA - G3 in production, a test root in tests);
2. the detached CMS signature over ephemeral public key ‖ data ‖
   transactionId (‖ applicationData), its messageDigest and signingTime
   (at most five minutes old);
3. the header's publicKeyHash names our payment processing key (else the
   token was made for another merchant);
4. ECDH with the ephemeral key, the NIST SP 800-56A concatenation KDF
   (SHA-256, "id-aes256-GCM", "Apple", SHA-256 of the merchant identifier),
   AES-256-GCM with a zero IV.

The transactionId replay check needs the database and lives in the service.
The decrypted device account number and cryptogram exist only in memory.
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LEAF_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.29")
INTERMEDIATE_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.14")
FRESHNESS = datetime.timedelta(minutes=5)


class TokenError(Exception):
    """The token is refused; ``code`` says why (never echoes token content)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class DecryptedPayment:
    transaction_id: str
    amount: int
    currency_code: str
    expiration: str  # YYMMDD
    eci: str
    dpan: str = field(repr=False)
    cryptogram: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.dpan[-4:]


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenError("invalid_format") from exc


def _has_extension(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> bool:
    try:
        certificate.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return False
    return True


def _check_chain(
    certificates: list[x509.Certificate], root: x509.Certificate, now: datetime.datetime
) -> x509.Certificate:
    leaf = next((c for c in certificates if _has_extension(c, LEAF_OID)), None)
    intermediate = next((c for c in certificates if _has_extension(c, INTERMEDIATE_OID)), None)
    if leaf is None or intermediate is None:
        raise TokenError("missing_certificate")
    try:
        intermediate.verify_directly_issued_by(root)
        leaf.verify_directly_issued_by(intermediate)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise TokenError("untrusted_chain") from exc
    for certificate in (root, intermediate, leaf):
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise TokenError("certificate_expired")
    return leaf


def _check_signature(
    signature: bytes, signed_content: bytes, root: x509.Certificate, now: datetime.datetime
) -> None:
    try:
        content_info = cms.ContentInfo.load(signature)
        signed_data = content_info["content"]
        certificates = [
            x509.load_der_x509_certificate(c.chosen.dump()) for c in signed_data["certificates"]
        ]
        [signer] = list(signed_data["signer_infos"])
        attributes = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
        digest = attributes["message_digest"].native
        signing_time = attributes["signing_time"].native
        # The signature covers the DER of the attributes as a SET (tag 0x31).
        signed_attrs = b"\x31" + signer["signed_attrs"].dump()[1:]
        signature_value = signer["signature"].native
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("invalid_signature_format") from exc
    leaf = _check_chain(certificates, root, now)
    if not hmac.compare_digest(digest, hashlib.sha256(signed_content).digest()):
        raise TokenError("bad_signature")
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise TokenError("bad_signature")
    try:
        public_key.verify(signature_value, signed_attrs, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise TokenError("bad_signature") from exc
    if abs(now - signing_time) > FRESHNESS:
        raise TokenError("stale")


def _kdf(shared_secret: bytes, merchant_identifier: str) -> bytes:
    other_info = (
        b"\x0did-aes256-GCM" + b"Apple" + hashlib.sha256(merchant_identifier.encode()).digest()
    )
    return hashlib.sha256(b"\x00\x00\x00\x01" + shared_secret + other_info).digest()


def verify_and_decrypt(
    token: dict[str, Any],
    *,
    root: x509.Certificate,
    processing_key: ec.EllipticCurvePrivateKey,
    merchant_identifier: str,
    now: datetime.datetime,
) -> DecryptedPayment:
    try:
        payment_data = token["paymentData"]
        header = payment_data["header"]
        version = payment_data["version"]
        transaction_id = str(header["transactionId"])
        signed_content = (
            _b64(header["ephemeralPublicKey"])
            + _b64(payment_data["data"])
            + bytes.fromhex(transaction_id)
            + (bytes.fromhex(header["applicationData"]) if header.get("applicationData") else b"")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenError("invalid_format") from exc
    if version != "EC_v1":
        raise TokenError("unsupported_version")
    _check_signature(_b64(payment_data["signature"]), signed_content, root, now)

    own_key = processing_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not hmac.compare_digest(
        _b64(header.get("publicKeyHash", "")), hashlib.sha256(own_key).digest()
    ):
        raise TokenError("wrong_merchant")
    try:
        ephemeral = serialization.load_der_public_key(_b64(header["ephemeralPublicKey"]))
        if not isinstance(ephemeral, ec.EllipticCurvePublicKey):
            raise TokenError("invalid_format")
        key = _kdf(processing_key.exchange(ec.ECDH(), ephemeral), merchant_identifier)
        plain = AESGCM(key).decrypt(b"\x00" * 16, _b64(payment_data["data"]), None)
        data = json.loads(plain)
        return DecryptedPayment(
            transaction_id=transaction_id,
            amount=int(data["transactionAmount"]),
            currency_code=str(data["currencyCode"]),
            expiration=str(data["applicationExpirationDate"]),
            eci=str(data["paymentData"].get("eciIndicator") or ""),
            dpan=str(data["applicationPrimaryAccountNumber"]),
            cryptogram=str(data["paymentData"]["onlinePaymentCryptogram"]),
        )
    except InvalidTag as exc:
        raise TokenError("wrong_merchant") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenError("invalid_format") from exc
