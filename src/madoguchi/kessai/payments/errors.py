"""Kessai's error hierarchy, mapped once to HTTP answers (see api.py)."""


class KessaiServiceError(Exception):
    code = "error"
    http_status = 400
    message = "リクエストを処理できませんでした。"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class IdempotencyConflict(KessaiServiceError):
    code = "idempotency_key_reused"
    http_status = 409
    message = "This Idempotency-Key was used with a different request body."


class IdempotencyInProgress(KessaiServiceError):
    code = "idempotency_key_in_progress"
    http_status = 409
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


class ReferenceInUse(KessaiServiceError):
    code = "reference_in_use"
    http_status = 409
    message = "A live payment already exists for this reference."


class PaymentNotFound(KessaiServiceError):
    code = "payment_not_found"
    http_status = 404
    message = "No such payment."


class PaymentNotPayable(KessaiServiceError):
    code = "payment_not_payable"
    http_status = 409
    message = "This payment can no longer be paid."


class PaymentPastDue(PaymentNotPayable):
    code = "payment_past_due"
    http_status = 409
    message = "The payment's due date (due_at) has passed; it can no longer be paid."


class AttemptInProgress(KessaiServiceError):
    code = "attempt_in_progress"
    http_status = 409
    message = "Another attempt for this payment is still being processed."


class CheckoutLinkInvalid(KessaiServiceError):
    code = "checkout_link_invalid"
    http_status = 404
    message = "This checkout link has expired or was already used."


class PaymentNotCancellable(KessaiServiceError):
    code = "payment_not_cancellable"
    http_status = 409
    message = "Only a payment that has not succeeded or ended can be cancelled."


class PaymentNotRefundable(KessaiServiceError):
    code = "payment_not_refundable"
    http_status = 409
    message = "Only a succeeded payment can be refunded."


class RefundAmountMismatch(KessaiServiceError):
    code = "refund_amount_mismatch"
    http_status = 409
    message = "expected_refundable_amount does not match the amount refundable now."


class RefundAmountUnavailable(KessaiServiceError):
    code = "refund_amount_unavailable"
    http_status = 409
    message = "The refund is larger than the amount refundable."


class RefundNotFound(KessaiServiceError):
    code = "refund_not_found"
    http_status = 404
    message = "No such refund."
