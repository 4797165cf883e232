"""PayPay as a payment method: a dynamic QR code (desktop) or deep link
(phone), approved in the PayPay app; the outcome is learnt by polling
``GET /v2/codes/payments/{merchantPaymentId}`` and from PayPay's webhook
(which only prompts that same inquiry: its body is not trusted)."""

import time

from madoguchi.contract.schemas import PaymentMethod

from ..base import PaymentProvider, ProviderResult, ProviderUnavailable, RefundResult
from .client import PayPayClient, PayPayResponse

# PayPay payment status -> decline code of our attempt (None: it succeeded).
FINAL_STATUSES: dict[str, str | None] = {
    "COMPLETED": None,
    "REFUNDED": None,  # it was paid; a refund is a separate matter
    "FAILED": "paypay_failed",
    "CANCELED": "paypay_cancelled",
    "EXPIRED": "paypay_expired",
}
NOT_FOUND_CODES = {"DYNAMIC_QR_PAYMENT_NOT_FOUND", "NO_SUCH_PAYMENT", "NOT_FOUND"}


class PayPayProvider(PaymentProvider):
    method = PaymentMethod.PAYPAY
    label_ja = "PayPay"
    label_en = "PayPay"

    def __init__(self, client: PayPayClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> PayPayClient:
        # Built lazily: settings are read when first used, not at import.
        if self._client is None:
            self._client = PayPayClient()
        return self._client

    def start(self, *, attempt_key: str, amount: int, return_url: str) -> ProviderResult:
        response = self.client.create_code(
            merchant_payment_id=attempt_key,
            amount=amount,
            redirect_url=return_url,
            requested_at=int(time.time()),
        )
        if not response.ok:
            return ProviderResult(succeeded=False, decline_code="paypay_error")
        return ProviderResult(
            succeeded=False,
            requires_action=True,
            provider_reference=str(response.data.get("codeId", "")),
            action_url=str(response.data.get("url", "")),
            action_deeplink=str(response.data.get("deeplink", "")),
        )

    @staticmethod
    def _result(response: PayPayResponse) -> ProviderResult:
        status = str(response.data.get("status", ""))
        if status not in FINAL_STATUSES:  # CREATED, AUTHORIZED: still waiting
            return ProviderResult(succeeded=False, requires_action=True)
        decline = FINAL_STATUSES[status]
        return ProviderResult(
            succeeded=decline is None,
            decline_code=decline or "",
            provider_reference=str(response.data.get("paymentId", "")),
        )

    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        response = self.client.get_payment_details(merchant_payment_id=attempt_key)
        if response.code in NOT_FOUND_CODES or response.status_code == 404:
            return None
        if not response.ok:
            raise ProviderUnavailable(f"paypay {response.code}")
        return self._result(response)

    def cancel_action(self, *, attempt_key: str) -> None:
        response = self.client.cancel_payment(merchant_payment_id=attempt_key)
        if not response.ok and response.code not in NOT_FOUND_CODES:
            raise ProviderUnavailable(f"paypay {response.code}")

    def void(self, *, attempt_key: str, provider_reference: str) -> None:
        self.cancel_action(attempt_key=attempt_key)

    @staticmethod
    def _refund_result(response: PayPayResponse) -> RefundResult:
        status = str(response.data.get("status", ""))
        if status == "COMPLETED":
            return RefundResult(
                succeeded=True, provider_reference=str(response.data.get("paymentId", ""))
            )
        if status == "FAILED" or (response.status_code < 500 and not response.ok):
            return RefundResult(succeeded=False, failure_code=response.code or "paypay_failed")
        # CREATED: accepted, not yet done. Left pending; the janitor asks again.
        raise ProviderUnavailable("paypay refund not final yet")

    def refund(
        self, *, attempt_key: str, provider_reference: str, refund_key: str, amount: int
    ) -> RefundResult:
        response = self.client.refund(
            merchant_refund_id=refund_key,
            payment_id=provider_reference,
            amount=amount,
            requested_at=int(time.time()),
        )
        return self._refund_result(response)

    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        response = self.client.get_refund(merchant_refund_id=refund_key)
        if response.code in NOT_FOUND_CODES or response.status_code == 404:
            return None
        return self._refund_result(response)
