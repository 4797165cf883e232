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


class ProviderUnavailable(Exception):
    """The provider could not be reached or did not answer: outcome unknown."""


class PaymentProvider(ABC):
    method: PaymentMethod
    label_ja: str
    label_en: str

    @abstractmethod
    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        """Ask the provider what became of an attempt; None if it never arrived."""
