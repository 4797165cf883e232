"""Console operations on payments (issue #14): what an administrator of the
digital-promotion office does by hand — resend notifications, ask a provider
about an attempt now, cancel a payment, refund on an agency's written request.

Each takes a reason, is audited in the transaction of the change it records
(a refusal is audited too, as a failure), and is refused where the payment's
state does not allow it: the checks are the payment services' own, under the
payment's row lock, so the console can never do what the API could not.
"""

from dataclasses import dataclass

from django.db import transaction

from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.errors import KessaiServiceError, PaymentNotCancellable
from madoguchi.kessai.payments.models import Attempt, Notification, Payment, Refund
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import audit_record

# Japanese messages for the payment services' refusals.
REFUSALS = {
    "payment_not_cancellable": (
        "この決済は取り消せません（支払済・期限切れ・取消済のいずれかです）。"
    ),
    "attempt_in_progress": "支払の試行の結果がまだ分かりません。照会してから取り消してください。",
    "payment_not_refundable": "この決済は返金できません（支払が完了していません）。",
    "refund_amount_mismatch": (
        "返金できる額が画面を開いた後に変わりました（ほかの返金が先に行われました）。"
        "画面を開き直して確かめてください。"
    ),
    "refund_amount_unavailable": "返金額が返金できる額を超えています。",
}


class OperationRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Operator:
    """Who does it, and why: every operation carries both into the audit log."""

    actor: str
    reason: str


def _audit(
    operator: Operator, event: str, resource: str, outcome: str = "success", **detail: object
) -> None:
    audit_record(
        actor=operator.actor,
        event=event,
        outcome=outcome,
        resource=resource,
        detail={"reason": operator.reason, **detail},
    )


def _refused(operator: Operator, event: str, resource: str, exc: KessaiServiceError) -> None:
    _audit(operator, event, resource, AuditRecord.Outcome.FAILURE, code=exc.code)
    raise OperationRefused(REFUSALS.get(exc.code, "この操作はできません。")) from exc


def console_payment_cancel(*, payment: Payment, operator: Operator) -> Payment:
    """Cancel a payment nobody has paid (the merchant will be notified)."""
    resource = f"payment:{payment.public_id}"
    try:
        with transaction.atomic():
            if payment.status == "cancelled":
                raise PaymentNotCancellable()
            cancelled = services.payment_cancel(payment=payment)
            _audit(operator, "payment.cancel", resource)
            return cancelled
    except KessaiServiceError as exc:
        _refused(operator, "payment.cancel", resource, exc)
        raise  # pragma: no cover - _refused always raises


def console_refund(
    *,
    payment: Payment,
    operator: Operator,
    amount: int,
    expected_refundable_amount: int,
    written_request: str,
) -> Refund:
    """Refund on an agency's written request. ``expected_refundable_amount``
    is what the administrator saw on the page: if another refund (an
    administrator's or the agency's own) got there first, it is refused, so
    two people pressing 返金 at once move the money once."""
    resource = f"payment:{payment.public_id}"
    try:
        with transaction.atomic():
            refund = services.refund_create(
                payment=payment,
                amount=amount,
                expected_refundable_amount=expected_refundable_amount,
                origin="console",
                written_request=written_request,
            )
            _audit(
                operator,
                "payment.refund",
                resource,
                refund=refund.public_id,
                amount=amount,
                written_request=written_request,
            )
    except KessaiServiceError as exc:
        _refused(operator, "payment.refund", resource, exc)
    # Sent after the reservation committed, never under the row lock.
    return services.refund_submit(refund=refund)


def console_attempt_inquire(*, attempt: Attempt, operator: Operator) -> Attempt:
    """Ask the provider now about an attempt whose answer was lost (rather
    than waiting for the janitor), and record what it says."""
    resource = f"payment:{attempt.payment.public_id}"
    if attempt.status != Attempt.Status.UNKNOWN:
        _audit(operator, "attempt.inquire", resource, "failure", attempt=attempt.pk)
        raise OperationRefused("結果が不明（unknown）の試行だけを照会できます。")
    settled = services.attempt_settle(attempt=attempt)
    attempt.refresh_from_db()
    _audit(
        operator,
        "attempt.inquire",
        resource,
        attempt=attempt.pk,
        settled=settled,
        status=attempt.status,
    )
    if not settled:
        raise OperationRefused(
            "決済事業者から答えが得られませんでした。しばらくして再度照会してください。"
        )
    return attempt


def console_notification_resend(*, notification: Notification, operator: Operator) -> None:
    """Deliver one event again now (same id and body: the merchant deduplicates)."""
    with transaction.atomic():
        services.notification_resend(notification=notification)
        _audit(
            operator,
            "notification.resend",
            f"payment:{notification.payment.public_id}",
            event_id=notification.event_id,
        )


def console_notifications_resend_given_up(*, merchant: Merchant, operator: Operator) -> int:
    """Every notification of ``merchant`` that Kessai gave up on, again now."""
    with transaction.atomic():
        given_up = list(
            Notification.objects.select_for_update()
            .select_related("payment")
            .filter(merchant=merchant, status=Notification.Status.GAVE_UP)
        )
        for notification in given_up:
            services.notification_resend(notification=notification)
        _audit(
            operator,
            "notification.resend_given_up",
            f"merchant:{merchant.code}",
            count=len(given_up),
        )
    return len(given_up)
