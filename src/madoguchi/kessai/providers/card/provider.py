from django.views.decorators.debug import sensitive_variables

from madoguchi.contract.schemas import PaymentMethod
from madoguchi.kessai.merchants.models import Merchant

from ..base import PaymentProvider, ProviderResult, RefundResult
from .acquirer import AcquirerClient
from .cards import CardDetails
from .connectors import attempt_merchant, attempt_of, refund_of, sbps_connector


class CardProvider(PaymentProvider):
    """Cards, through the connector each merchant is configured with: the
    acquirer sandbox, or SBPS's API type (connectors.py)."""

    method = PaymentMethod.CARD
    label_ja = "クレジットカード"
    label_en = "Credit card"

    def __init__(self, acquirer: AcquirerClient | None = None) -> None:
        self.acquirer = acquirer or AcquirerClient()

    @sensitive_variables("card")
    def authorize(
        self,
        *,
        attempt_key: str,
        amount: int,
        card: CardDetails,
        return_url: str = "",
        merchant: Merchant | None = None,
    ) -> ProviderResult:
        """``merchant``: the payment's, where the caller has it (one query
        fewer on every card payment); else it is read by the attempt."""
        sbps = sbps_connector(merchant if merchant is not None else attempt_merchant(attempt_key))
        if sbps is not None:
            return sbps.authorize(
                attempt_key=attempt_key, amount=amount, card=card, return_url=return_url
            )
        return self.acquirer.authorize(
            attempt_key=attempt_key, amount=amount, card=card, return_url=return_url
        )

    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        attempt = attempt_of(attempt_key)
        sbps = sbps_connector(attempt.payment.merchant if attempt else None)
        if sbps is not None and attempt is not None:
            return sbps.inquire(
                attempt_key=attempt_key,
                tracking_id=attempt.provider_reference,
                amount=attempt.payment.amount,
            )
        return self.acquirer.inquire(attempt_key=attempt_key)

    def refund(
        self, *, attempt_key: str, provider_reference: str, refund_key: str, amount: int
    ) -> RefundResult:
        refund = refund_of(refund_key)
        sbps = sbps_connector(refund.payment.merchant if refund else None)
        if sbps is not None and refund is not None:
            return sbps.refund(
                tracking_id=provider_reference,
                amount=amount,
                whole=amount == refund.payment.amount,
            )
        return self.acquirer.refund(attempt_key=attempt_key, refund_key=refund_key, amount=amount)

    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        refund = refund_of(refund_key)
        sbps = sbps_connector(refund.payment.merchant if refund else None)
        if sbps is not None and refund is not None:
            return sbps.inquire_refund(
                tracking_id=refund.attempt.provider_reference,
                whole=refund.amount == refund.payment.amount,
            )
        return self.acquirer.inquire_refund(refund_key=refund_key)

    def cancel_action(self, *, attempt_key: str) -> None:
        # A pending 3-D Secure authentication ends on request, so a challenge
        # left open in another tab can no longer capture.
        attempt = attempt_of(attempt_key)
        sbps = sbps_connector(attempt.payment.merchant if attempt else None)
        if sbps is not None and attempt is not None:
            sbps.cancel_action(attempt_key=attempt_key, reference=attempt.provider_reference)
            return
        self.acquirer.void(attempt_key=attempt_key)

    def void(self, *, attempt_key: str, provider_reference: str) -> None:
        sbps = sbps_connector(attempt_merchant(attempt_key))
        if sbps is not None:
            sbps.void(tracking_id=provider_reference)
            return
        self.acquirer.void(attempt_key=attempt_key)
