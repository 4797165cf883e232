from abc import ABC, abstractmethod
from dataclasses import dataclass

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
