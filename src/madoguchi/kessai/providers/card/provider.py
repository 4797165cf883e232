from django.views.decorators.debug import sensitive_variables

from madoguchi.contract.schemas import PaymentMethod

from ..base import PaymentProvider, ProviderResult, RefundResult
from .acquirer import AcquirerClient
from .cards import CardDetails


class CardProvider(PaymentProvider):
    method = PaymentMethod.CARD
    label_ja = "クレジットカード"
    label_en = "Credit card"

    def __init__(self, acquirer: AcquirerClient | None = None) -> None:
        self.acquirer = acquirer or AcquirerClient()

    @sensitive_variables("card")
    def authorize(
        self, *, attempt_key: str, amount: int, card: CardDetails, return_url: str = ""
    ) -> ProviderResult:
        return self.acquirer.authorize(
            attempt_key=attempt_key, amount=amount, card=card, return_url=return_url
        )

    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        return self.acquirer.inquire(attempt_key=attempt_key)

    def refund(
        self, *, attempt_key: str, provider_reference: str, refund_key: str, amount: int
    ) -> RefundResult:
        return self.acquirer.refund(attempt_key=attempt_key, refund_key=refund_key, amount=amount)

    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        return self.acquirer.inquire_refund(refund_key=refund_key)

    def cancel_action(self, *, attempt_key: str) -> None:
        # The acquirer ends a pending 3-D Secure authentication on request, so
        # a challenge left open in another tab can no longer capture.
        self.acquirer.void(attempt_key=attempt_key)

    def void(self, *, attempt_key: str, provider_reference: str) -> None:
        self.acquirer.void(attempt_key=attempt_key)
