"""Apple Pay as a payment method: merchant validation (mutual TLS with the
merchant identity certificate), token verification and decryption, then an
authorization through the card acquirer with the device account number,
cryptogram and ECI. Refunds and voids are the acquirer's, as for cards."""

import datetime
import ssl
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from madoguchi.contract.schemas import PaymentMethod
from madoguchi.platform.http import make_client

from ..base import PaymentProvider, ProviderResult, ProviderUnavailable, RefundResult
from ..card.acquirer import AcquirerClient
from ..card.cards import detect_brand
from .token import DecryptedPayment, TokenError, verify_and_decrypt


class MerchantValidationError(Exception):
    pass


class ApplePayProvider(PaymentProvider):
    method = PaymentMethod.APPLE_PAY
    label_ja = "Apple Pay"
    label_en = "Apple Pay"

    def __init__(self, acquirer: AcquirerClient | None = None) -> None:
        self.acquirer = acquirer or AcquirerClient()

    @cached_property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(Path(settings.KESSAI_APPLEPAY_ROOT_CERT).read_bytes())

    @cached_property
    def processing_key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(
            Path(settings.KESSAI_APPLEPAY_PROCESSING_KEY).read_bytes(), None
        )
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("the payment processing key must be an EC key")
        return key

    def validate_merchant(self, *, validation_url: str) -> dict[str, Any]:
        """POST to Apple's paymentSession endpoint with the merchant identity
        certificate (mutual TLS). The URL comes from the browser, so only the
        configured hosts are accepted."""
        parts = urlsplit(validation_url)
        if parts.hostname not in settings.KESSAI_APPLEPAY_VALIDATION_HOSTS:
            raise MerchantValidationError("validation host not allowed")
        if parts.scheme != "https" and not settings.KESSAI_APPLEPAY_ALLOW_HTTP:
            raise MerchantValidationError("validation must use https")
        context = ssl.create_default_context()
        context.load_cert_chain(
            settings.KESSAI_APPLEPAY_IDENTITY_CERT, settings.KESSAI_APPLEPAY_IDENTITY_KEY
        )
        body = {
            "merchantIdentifier": settings.KESSAI_APPLEPAY_MERCHANT_ID,
            "displayName": settings.KESSAI_APPLEPAY_DISPLAY_NAME,
            "initiative": "web",
            "initiativeContext": urlsplit(settings.KESSAI_PUBLIC_URL).hostname or "",
        }
        try:
            with make_client(verify=context) as client:
                response = client.post(validation_url, json=body)
        except httpx.HTTPError as exc:
            raise MerchantValidationError(type(exc).__name__) from None
        if response.status_code != 200:
            raise MerchantValidationError(f"status {response.status_code}")
        try:
            session: dict[str, Any] = response.json()
        except ValueError:
            raise MerchantValidationError("answer is not JSON") from None
        return session

    def decrypt(self, *, token: dict[str, Any]) -> DecryptedPayment:
        """Verify and decrypt; raises ``TokenError``."""
        return verify_and_decrypt(
            token,
            root=self.root,
            processing_key=self.processing_key,
            merchant_identifier=settings.KESSAI_APPLEPAY_MERCHANT_ID,
            now=datetime.datetime.now(datetime.UTC),
        )

    @sensitive_variables("payment")
    def authorize(self, *, attempt_key: str, payment: DecryptedPayment) -> ProviderResult:
        try:
            exp_year, exp_month = 2000 + int(payment.expiration[:2]), int(payment.expiration[2:4])
        except ValueError as exc:
            raise TokenError("invalid_format") from exc
        result = self.acquirer.authorize_network_token(
            attempt_key=attempt_key,
            amount=payment.amount,
            dpan=payment.dpan,
            exp_month=exp_month,
            exp_year=exp_year,
            cryptogram=payment.cryptogram,
            eci=payment.eci,
        )
        return ProviderResult(
            succeeded=result.succeeded,
            provider_reference=result.provider_reference,
            decline_code=result.decline_code,
            card_brand=detect_brand(payment.dpan) or "",
            card_last4=payment.last4,
            eci=result.eci,
        )

    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        return self.acquirer.inquire(attempt_key=attempt_key)

    def refund(
        self, *, attempt_key: str, provider_reference: str, refund_key: str, amount: int
    ) -> RefundResult:
        return self.acquirer.refund(attempt_key=attempt_key, refund_key=refund_key, amount=amount)

    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        return self.acquirer.inquire_refund(refund_key=refund_key)

    def void(self, *, attempt_key: str, provider_reference: str) -> None:
        self.acquirer.void(attempt_key=attempt_key)


__all__ = ["ApplePayProvider", "MerchantValidationError", "ProviderUnavailable", "TokenError"]
