from abc import ABC, abstractmethod
from dataclasses import dataclass

import httpx

from madoguchi.contract.schemas import PaymentMethod


@dataclass(frozen=True)
class ProviderResult:
    """What a provider reports about one attempt."""

    succeeded: bool
    provider_reference: str = ""
    decline_code: str = ""
    card_brand: str = ""
    card_last4: str = ""
    eci: str = ""
    three_ds: str = ""  # "frictionless" or "challenge" for cards
    # Not finished yet: the citizen must act at ``action_url`` first (a 3-D
    # Secure challenge, the PayPay app); the outcome is learnt by inquiry.
    requires_action: bool = False
    action_url: str = ""
    action_deeplink: str = ""


@dataclass(frozen=True)
class RefundResult:
    """What a provider reports about one refund."""

    succeeded: bool
    provider_reference: str = ""
    failure_code: str = ""


class ProviderUnavailable(Exception):
    """The provider could not be reached or did not answer: outcome unknown."""


class ProviderNotReached(ProviderUnavailable):
    """The connection never opened, so nothing was sent: the outcome is known
    (nothing happened at the provider) and the citizen may try again at once."""


# Failures before a single byte of the request left: no connection (refused,
# DNS, TLS handshake), no connection within the connect timeout, none free in
# the pool, or a URL httpx cannot use. A read or write timeout, or a broken
# answer, comes after sending: then the outcome is unknown.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def provider_error(exc: httpx.HTTPError) -> ProviderUnavailable:
    """What an httpx failure means for the outcome. Only the exception's type
    name is kept: never the request, which may carry a card number."""
    if isinstance(exc, _NOT_SENT):
        return ProviderNotReached(type(exc).__name__)
    return ProviderUnavailable(type(exc).__name__)


class PaymentProvider(ABC):
    method: PaymentMethod
    label_ja: str
    label_en: str

    @abstractmethod
    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        """Ask the provider what became of an attempt; None if it never arrived."""

    @abstractmethod
    def refund(
        self, *, attempt_key: str, provider_reference: str, refund_key: str, amount: int
    ) -> RefundResult:
        """Send ``amount`` of a succeeded attempt back; idempotent by ``refund_key``."""

    @abstractmethod
    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        """Ask what became of a refund; None if it never arrived."""

    def cancel_action(self, *, attempt_key: str) -> None:
        """Make sure an attempt waiting for the citizen can no longer complete
        (they chose another method, or the window passed). Providers whose
        side ends by itself (a 3-DS challenge times out) need do nothing."""
        return

    @abstractmethod
    def void(self, *, attempt_key: str, provider_reference: str) -> None:
        """Reverse a charge that must not stand (it succeeded on an ended payment)."""
