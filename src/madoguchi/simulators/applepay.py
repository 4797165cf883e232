"""Apple Pay stand-ins: a test certificate authority in Apple's shape, the
token a device's Secure Element would produce, the merchant validation
endpoint, and a "payment sheet" page for browsers without Apple Pay (demo
mode).

Tokens are built exactly as Apple's "Payment token format reference"
describes, so Kessai's real verification and decryption run on them:
``EC_v1``, the payment data encrypted with AES-256-GCM under a key derived
(NIST SP 800-56A concatenation KDF, SHA-256) from ECDH between an ephemeral
key and the merchant's payment processing key, and a detached CMS signature
by a leaf certificate (OID 1.2.840.113635.100.6.29) issued by an
intermediate (OID 1.2.840.113635.100.6.2.14) under a root — here a test root
that Kessai is configured to trust instead of Apple Root CA - G3.
"""

import base64
import datetime
import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

LEAF_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.29")
INTERMEDIATE_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.14")
# Device account number and cryptogram of the simulated device (a Visa DPAN).
DEMO_DPAN = "4111111111111111"


@dataclass(frozen=True)
class CertifiedKey:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def pem(self) -> tuple[bytes, bytes]:
        return (
            self.certificate.public_bytes(serialization.Encoding.PEM),
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: CertifiedKey | None,
    *,
    ca: bool,
    marker: x509.ObjectIdentifier | None = None,
    days: int = 3650,
) -> CertifiedKey:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if marker is not None:
        # Apple's marker extensions carry an ASN.1 NULL.
        builder = builder.add_extension(
            x509.UnrecognizedExtension(marker, b"\x05\x00"), critical=False
        )
    signer = issuer.key if issuer else key
    return CertifiedKey(builder.sign(signer, hashes.SHA256()), key)


@dataclass(frozen=True)
class DemoPki:
    """Apple's side (root, intermediate, signing leaf) for tests and demo mode."""

    root: CertifiedKey
    intermediate: CertifiedKey
    leaf: CertifiedKey

    @classmethod
    def generate(cls, name: str = "Madoguchi Test Apple Root CA") -> "DemoPki":
        root = _certificate(name, ec.generate_private_key(ec.SECP384R1()), None, ca=True)
        intermediate = _certificate(
            "Test Apple Application Integration CA",
            ec.generate_private_key(ec.SECP256R1()),
            root,
            ca=True,
            marker=INTERMEDIATE_OID,
        )
        leaf = _certificate(
            "test-ecc-smp-broker-sign",
            ec.generate_private_key(ec.SECP256R1()),
            intermediate,
            ca=False,
            marker=LEAF_OID,
        )
        return cls(root, intermediate, leaf)


def _kdf(shared_secret: bytes, merchant_identifier: str) -> bytes:
    other_info = (
        b"\x0did-aes256-GCM" + b"Apple" + hashlib.sha256(merchant_identifier.encode()).digest()
    )
    return hashlib.sha256(b"\x00\x00\x00\x01" + shared_secret + other_info).digest()


def build_token(
    *,
    pki: DemoPki,
    merchant_public_key: ec.EllipticCurvePublicKey,
    merchant_identifier: str,
    amount: int,
    dpan: str = DEMO_DPAN,
    cryptogram: str | None = None,
    eci: str = "05",
    transaction_id: str | None = None,
    expiration: str = "311231",
) -> dict[str, Any]:
    """An Apple Pay payment token (``ApplePayPaymentToken``) as a device makes it."""
    transaction_id = transaction_id or secrets.token_hex(32)
    payment_data = {
        "applicationPrimaryAccountNumber": dpan,
        "applicationExpirationDate": expiration,
        "currencyCode": "392",
        "transactionAmount": amount,
        "deviceManufacturerIdentifier": "040010030273",
        "paymentDataType": "3DSecure",
        "paymentData": {
            "onlinePaymentCryptogram": cryptogram
            or base64.b64encode(secrets.token_bytes(20)).decode(),
            "eciIndicator": eci,
        },
    }
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    key = _kdf(ephemeral.exchange(ec.ECDH(), merchant_public_key), merchant_identifier)
    data = AESGCM(key).encrypt(b"\x00" * 16, json.dumps(payment_data).encode(), None)
    ephemeral_der = ephemeral.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    merchant_der = merchant_public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = ephemeral_der + data + bytes.fromhex(transaction_id)
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(signed)
        .add_signer(pki.leaf.certificate, pki.leaf.key, hashes.SHA256())
        .add_certificate(pki.intermediate.certificate)
        .sign(
            serialization.Encoding.DER,
            [
                pkcs7.PKCS7Options.DetachedSignature,
                pkcs7.PKCS7Options.NoCapabilities,
                pkcs7.PKCS7Options.Binary,  # sign the bytes as they are
            ],
        )
    )
    return {
        "paymentData": {
            "version": "EC_v1",
            "data": base64.b64encode(data).decode(),
            "signature": base64.b64encode(signature).decode(),
            "header": {
                "ephemeralPublicKey": base64.b64encode(ephemeral_der).decode(),
                "publicKeyHash": base64.b64encode(hashlib.sha256(merchant_der).digest()).decode(),
                "transactionId": transaction_id,
            },
        },
        "paymentMethod": {"displayName": f"Visa {dpan[-4:]}", "network": "Visa", "type": "debit"},
        "transactionIdentifier": transaction_id.upper(),
    }


# --- the files ``madoguchi up`` shares between Kessai and this simulator ---------


def ensure_demo_pki(directory: Path) -> dict[str, str]:
    """Create (once) the test root, Apple's signing chain, and the merchant's
    payment processing and identity keys; return the paths Kessai needs."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        name: directory / f"{name}.pem"
        for name in (
            "root_cert", "root_key", "intermediate_cert", "intermediate_key", "leaf_cert",
            "leaf_key", "processing_key", "identity_cert", "identity_key",
        )
    }  # fmt: skip
    if not paths["leaf_key"].exists():
        pki = DemoPki.generate()
        for name, certified in (
            ("root", pki.root),
            ("intermediate", pki.intermediate),
            ("leaf", pki.leaf),
        ):
            cert_pem, key_pem = certified.pem()
            paths[f"{name}_cert"].write_bytes(cert_pem)
            paths[f"{name}_key"].write_bytes(key_pem)
        processing = ec.generate_private_key(ec.SECP256R1())
        paths["processing_key"].write_bytes(
            processing.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        identity = _certificate(
            "merchant.jp.madoguchi.demo", ec.generate_private_key(ec.SECP256R1()), pki.root,
            ca=False,
        )  # fmt: skip
        cert_pem, key_pem = identity.pem()
        paths["identity_cert"].write_bytes(cert_pem)
        paths["identity_key"].write_bytes(key_pem)
        for path in paths.values():
            os.chmod(path, 0o600)
    return {name: str(path) for name, path in paths.items()}


_loaded: dict[str, Any] = {}
_load_lock = threading.Lock()


def _demo_material() -> tuple[DemoPki, ec.EllipticCurvePublicKey]:
    """The simulator's Apple chain and the merchant's public key (demo mode)."""
    with _load_lock:
        if "pki" not in _loaded:
            directory = Path(settings.APPLEPAY_DEMO_DIR)

            def load(name: str) -> CertifiedKey:
                cert = x509.load_pem_x509_certificate((directory / f"{name}_cert.pem").read_bytes())
                key = serialization.load_pem_private_key(
                    (directory / f"{name}_key.pem").read_bytes(), None
                )
                assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 - our own files
                return CertifiedKey(cert, key)

            _loaded["pki"] = DemoPki(load("root"), load("intermediate"), load("leaf"))
            processing = serialization.load_pem_private_key(
                (directory / "processing_key.pem").read_bytes(), None
            )
            assert isinstance(processing, ec.EllipticCurvePrivateKey)  # noqa: S101
            _loaded["merchant"] = processing.public_key()
    return _loaded["pki"], _loaded["merchant"]


# --- endpoints -------------------------------------------------------------------


@csrf_exempt
def merchant_validation(request: HttpRequest) -> HttpResponse:
    """Apple's ``paymentSession`` endpoint: answers an opaque merchant session.
    (In production Apple checks the merchant identity certificate presented
    in mutual TLS; the local simulator speaks plain HTTP and cannot.)"""
    if request.method != "POST":
        return JsonResponse({"statusCode": "405"}, status=405)
    try:
        body = json.loads(request.body)
        merchant_identifier = str(body["merchantIdentifier"])
        domain = str(body["initiativeContext"])
        assert body["initiative"] == "web"  # noqa: S101
    except (ValueError, KeyError, TypeError, AssertionError):
        return JsonResponse({"statusCode": "400", "statusMessage": "invalid request"}, status=400)
    now = int(time.time() * 1000)
    return JsonResponse(
        {
            "epochTimestamp": now,
            "expiresAt": now + 3_600_000,
            "merchantSessionIdentifier": "SSH" + secrets.token_hex(16).upper(),
            "nonce": secrets.token_hex(4),
            "merchantIdentifier": hashlib.sha256(merchant_identifier.encode()).hexdigest(),
            "domainName": domain,
            "displayName": str(body.get("displayName", "")),
            "signature": base64.b64encode(secrets.token_bytes(64)).decode(),
            "operationalAnalyticsIdentifier": "madoguchi-simulator",
            "retries": 0,
            "pspId": "",
        }
    )


SHEET_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Apple Pay（デモ）</title></head>
<body><main>
<h1>Apple Pay（デモ）</h1>
<p>Apple Payに対応していないブラウザーのためのシミュレーターです。
端末のSecure Elementの代わりに、支払いトークンを作って送ります。</p>
<p>お支払い金額：<strong>{amount}円</strong>　カード：Visa（デバイスアカウント番号 末尾1111）</p>
<form method="post" action="{action}">
<input type="hidden" name="token" value="{token}">
<button type="submit" id="applepay-authorize">Touch IDで支払う（デモ）</button>
</form>
<p><a href="{cancel}">やめる</a></p>
</main></body></html>"""


def payment_sheet(request: HttpRequest) -> HttpResponse:
    """Demo mode: ``?amount=&merchant=&return=&cancel=``; the form posts a
    freshly made token to Kessai's ``return`` URL."""
    try:
        amount = int(request.GET["amount"])
        merchant_identifier = request.GET["merchant"]
        action = request.GET["return"]
        cancel = request.GET.get("cancel", action)
    except (KeyError, ValueError):
        return HttpResponse("invalid request", status=400)
    pki, merchant_key = _demo_material()
    token = build_token(
        pki=pki,
        merchant_public_key=merchant_key,
        merchant_identifier=merchant_identifier,
        amount=amount,
    )
    page = SHEET_PAGE.format(
        amount=f"{amount:,}",
        action=escape(action),
        cancel=escape(cancel),
        token=escape(json.dumps(token)),
    )
    return HttpResponse(page)
