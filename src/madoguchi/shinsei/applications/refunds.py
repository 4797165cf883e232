"""還付: refunds of an application's fee, and the payment that follows the
application when it ends (withdrawn or rejected).

A refund is requested by one staff member and approved (決裁) by another —
a reviewer or administrator of the agency, never the requester. Approval
enqueues the send in the same transaction; the send goes through the
application's payment gateway (Kessai, SBPS), which returns the money by the
method the citizen used. A gateway that takes an idempotency key (Kessai)
gets the same key on every retry; one that does not (SBPS's API) is handed
each refund at most once, claimed by a conditional update first. Either way
a retry or a second refund racing it can never move money twice.
Every status change goes through ``_refund_move`` and the table below.
"""

import logging
from datetime import timedelta
from typing import Any

import httpx
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.contract.client import KessaiError
from madoguchi.platform.audit.services import audit_record
from madoguchi.shinsei.gateways.base import GatewayRefund, GatewayUnavailable
from madoguchi.shinsei.gateways.registry import gateway_for
from madoguchi.shinsei.staff.models import StaffAccount

from .models import (
    OPEN_REFUND_STATUSES,
    Application,
    ApplicationEvent,
    CitizenMail,
    RefundRequest,
)
from .services import ApplicationError, InvalidTransition, in_scope

logger = logging.getLogger(__name__)

Status = RefundRequest.Status
PaymentStatus = Application.PaymentStatus

# The one declared transition table of a refund request: action -> (to, from).
TRANSITIONS: dict[str, tuple[str, list[str]]] = {
    "approve": (Status.APPROVED, [Status.REQUESTED]),
    "decline": (Status.DECLINED, [Status.REQUESTED]),
    # Sent, its outcome awaited (a gateway's "pending", or handed over to a
    # gateway without idempotency keys).
    "await": (Status.PENDING, [Status.APPROVED]),
    # Handed over, but the gateway proved nothing reached it: send again.
    "release": (Status.APPROVED, [Status.PENDING]),
    "succeed": (Status.SUCCEEDED, [Status.APPROVED, Status.PENDING]),
    "fail": (Status.FAILED, [Status.APPROVED, Status.PENDING]),
}

# Payment statuses whose money can be refunded.
REFUNDABLE_PAYMENT = [PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED]
# What the send task may retry (the gateway unreachable or asking to wait).
RETRYABLE = (httpx.HTTPError, KessaiError, GatewayUnavailable)


class RefundNotAllowed(ApplicationError):
    message = "この返金を承認する権限がありません。"


def _refund_move(refund: RefundRequest, action: str, **fields: Any) -> bool:
    """Conditional UPDATE through the transition table. True if it moved."""
    target, allowed_from = TRANSITIONS[action]
    moved = RefundRequest.objects.filter(pk=refund.pk, status__in=allowed_from).update(
        status=target, updated_at=timezone.now(), **fields
    )
    if moved:
        refund.refresh_from_db()
    return bool(moved)


def _event(application_id: int, type_: str, actor: str, **detail: Any) -> None:
    ApplicationEvent.objects.create(
        application_id=application_id, type=type_, actor=actor, detail=detail
    )


def _audit(actor: str, event: str, refund: RefundRequest, **detail: Any) -> None:
    audit_record(
        actor=actor,
        event=event,
        resource=f"application:{refund.application.reference}",
        detail={"refund": refund.pk, "amount": refund.amount, **detail},
    )


def refund_refusal(*, application: Application) -> str:
    """Why the gateway cannot refund this paid application (for staff), or ""."""
    if application.payment_status not in REFUNDABLE_PAYMENT:
        return ""
    return gateway_for(application).refund_refusal(application=application)


def refundable_amount(*, application: Application) -> int:
    """What may still be asked for: the fee less refunds done and requests open
    (0 where the payment's gateway cannot refund it: ``refund_refusal``)."""
    if application.payment_status not in REFUNDABLE_PAYMENT or refund_refusal(
        application=application
    ):
        return 0
    open_amount = (
        application.refund_requests.filter(status__in=OPEN_REFUND_STATUSES).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    return max(0, application.fee_amount - application.refunded_amount - open_amount)


def _open_request(
    *,
    application: Application,
    amount: int,
    reason: str,
    reason_text: str,
    requested_by: StaffAccount | None,
) -> RefundRequest:
    """Within the caller's transaction, with the application's row locked."""
    refund = RefundRequest.objects.create(
        application=application,
        amount=amount,
        reason=reason,
        reason_text=reason_text,
        requested_by=requested_by,
    )
    actor = requested_by.account_key if requested_by else "system"
    _event(application.pk, "refund_requested", actor, amount=amount, reason=reason)
    _audit(actor, "refund.request", refund, reason=reason)
    return refund


def refund_request_create(
    *,
    application: Application,
    staff: StaffAccount,
    amount: int,
    reason: str,
    reason_text: str = "",
) -> RefundRequest:
    """A staff member asks for part or all of the fee to be returned."""
    if not in_scope(staff, application):
        raise InvalidTransition("所管外の申請です。")
    if reason not in RefundRequest.Reason.values:
        raise ApplicationError("返金の理由を選んでください。")
    if reason == RefundRequest.Reason.OTHER and not reason_text.strip():
        raise ApplicationError("理由が「その他」のときは理由の詳細を入力してください。")
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if refusal := refund_refusal(application=locked):
            raise InvalidTransition(refusal)
        available = refundable_amount(application=locked)
        if available == 0:
            raise InvalidTransition("返金できる決済がありません。")
        if amount < 1 or amount > available:
            raise ApplicationError(f"返金額は1円以上{available:,}円以下で入力してください。")
        return _open_request(
            application=locked,
            amount=amount,
            reason=reason,
            reason_text=reason_text.strip()[:2000],
            requested_by=staff,
        )


def _check_approver(staff: StaffAccount, refund: RefundRequest) -> None:
    if not in_scope(staff, refund.application):
        raise InvalidTransition("所管外の申請です。")
    if not staff.agency_wide:
        raise RefundNotAllowed("返金の承認は審査者または管理者が行います。")
    if refund.requested_by_id == staff.pk:
        raise RefundNotAllowed("自分が申請した返金は承認できません。別の方が承認してください。")


def refund_request_approve(
    *, refund: RefundRequest, staff: StaffAccount, note: str = ""
) -> RefundRequest:
    """決裁: a second person approves; the send to Kessai is queued with it."""
    from .tasks import send_refund

    _check_approver(staff, refund)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=refund.application_id)
        # What Kessai should find refundable now: the fee less what has been
        # refunded and what other approved refunds have already taken.
        in_flight = (
            application.refund_requests.filter(status__in=[Status.APPROVED, Status.PENDING])
            .exclude(pk=refund.pk)
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        expected = application.fee_amount - application.refunded_amount - in_flight
        if application.payment_status not in REFUNDABLE_PAYMENT or refund.amount > expected:
            raise InvalidTransition("返金できる金額を超えています。")
        now = timezone.now()
        if not _refund_move(
            refund,
            "approve",
            decided_by=staff,
            decided_at=now,
            decision_note=note.strip()[:2000],
            expected_refundable_amount=expected,
        ):
            raise InvalidTransition("この返金はすでに処理されています。")
        _event(application.pk, "refund_approved", staff.account_key, amount=refund.amount)
        _audit(staff.account_key, "refund.approve", refund, expected=expected)
        send_refund.enqueue(refund_id=refund.pk)
    return refund


def refund_request_decline(
    *, refund: RefundRequest, staff: StaffAccount, note: str
) -> RefundRequest:
    """The approver sends it back: nothing is refunded."""
    _check_approver(staff, refund)
    if not note.strip():
        raise ApplicationError("返金しない理由を入力してください。")
    with transaction.atomic():
        if not _refund_move(
            refund,
            "decline",
            decided_by=staff,
            decided_at=timezone.now(),
            decision_note=note.strip()[:2000],
        ):
            raise InvalidTransition("この返金はすでに処理されています。")
        _event(refund.application_id, "refund_declined", staff.account_key, amount=refund.amount)
        _audit(staff.account_key, "refund.decline", refund)
    return refund


def refund_send(*, refund_id: int) -> RefundRequest:
    """Send an approved refund through the application's gateway (again);
    safe to repeat. Raises for the task to retry when the gateway cannot
    answer now."""
    refund = RefundRequest.objects.select_related("application__procedure__department__agency").get(
        pk=refund_id
    )
    if refund.status not in (Status.APPROVED, Status.PENDING) or refund.kessai_refund_id:
        return refund
    application = refund.application
    gateway = gateway_for(application)
    if not gateway.refund_replay_safe:
        # No idempotency key at this gateway: whoever moves it to pending
        # sends it; a retry, a second worker or the sweep finds it taken.
        with transaction.atomic():
            if not _refund_move(refund, "await"):
                return refund
            _event(application.pk, "refund_sent", gateway.code, amount=refund.amount)
            _audit(gateway.code, "refund.sent", refund)
    try:
        answer = gateway.refund_send(application=application, refund=refund)
    except GatewayUnavailable:
        if not gateway.refund_replay_safe:
            _refund_move(refund, "release")  # nothing reached the gateway
        raise
    # One transaction: nobody sees the refund 返金済 on an application that
    # does not yet read 一部返金 / 返金済.
    with transaction.atomic():
        refund_result_apply(
            refund=refund, refund_id=answer.id, status=answer.status, code=answer.code, at=answer.at
        )
        _refunded_total_apply(application=application, answer=answer)
    return refund


def _refunded_total_apply(*, application: Application, answer: GatewayRefund) -> None:
    """The application's refunded total after a gateway's answer: the
    gateway's figure, or (for a gateway that keeps none) the sum of the
    refunds Shinsei saw succeed, added up under the application's row lock."""
    total = answer.refunded_amount
    if total is None:
        if answer.status != schemas.RefundStatus.SUCCEEDED:
            return
        Application.objects.select_for_update().filter(pk=application.pk).first()
        total = (
            application.refund_requests.filter(status=Status.SUCCEEDED).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
    refunds_apply(application=application, refunded_amount=total)


def refund_result_apply(
    *,
    refund: RefundRequest,
    refund_id: str,
    status: str,
    code: str = "",
    at: Any = None,
) -> None:
    """Record Kessai's answer about a refund request. Safe to call twice."""
    with transaction.atomic():
        fields: dict[str, Any] = {}
        if refund_id:
            fields["kessai_refund_id"] = refund_id
        if status == schemas.RefundStatus.SUCCEEDED:
            moved = _refund_move(refund, "succeed", succeeded_at=at or timezone.now(), **fields)
            kind = "refund_succeeded"
        elif status == schemas.RefundStatus.FAILED:
            moved = _refund_move(refund, "fail", failure_code=code or "failed", **fields)
            kind = "refund_failed"
        else:
            moved = _refund_move(refund, "await", **fields)
            kind = "refund_pending"
        if moved:
            actor = refund.application.payment_gateway or "kessai"
            _event(refund.application_id, kind, actor, amount=refund.amount, code=code)
            _audit(actor, f"refund.{status}", refund, code=code)
            if kind == "refund_succeeded":
                from .services import _mail

                _mail(refund.application_id, CitizenMail.Kind.REFUNDED)


def refunds_apply(*, application: Application, refunded_amount: int) -> bool:
    """Apply the gateway's refunded total monotonically: 一部返金 or 返金済."""
    if refunded_amount <= 0:
        return False
    target = (
        PaymentStatus.REFUNDED
        if refunded_amount >= application.fee_amount
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    allowed = [PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED]
    changed = Application.objects.filter(
        pk=application.pk,
        payment_status__in=allowed,
        refunded_amount__lt=refunded_amount,
    ).update(
        payment_status=target,
        refunded_amount=refunded_amount,
        refunded_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if changed:
        application.refresh_from_db()
        actor = application.payment_gateway or "kessai"
        _event(application.pk, f"payment_{target}", actor, amount=refunded_amount)
    return bool(changed)


def refund_notification_apply(*, application: Application, refund: schemas.Refund | None) -> None:
    """A ``payment.refunded`` event (its payment already applied, with the
    refunded total): the request it answers, if Shinsei sent it, succeeds."""
    if refund is not None:
        ours = RefundRequest.objects.filter(
            application=application, kessai_refund_id=refund.id
        ).first()
        if ours is not None:
            refund_result_apply(
                refund=ours, refund_id=refund.id, status=refund.status, at=refund.succeeded_at
            )


# --- the payment follows the application ---------------------------------------

ENDED = [Application.Status.WITHDRAWN, Application.Status.REJECTED]


def payment_follow_end(*, application: Application, actor: str) -> None:
    """In the transaction that withdrew or rejected ``application``: an unpaid
    payment is cancelled at its gateway at once (a task, retried); a paid one gets
    a refund request for staff to approve — never automatic money movement."""
    from .tasks import cancel_payment

    reason = (
        RefundRequest.Reason.WITHDRAWN
        if application.status == Application.Status.WITHDRAWN
        else RefundRequest.Reason.REJECTED
    )
    if application.payment_status in (PaymentStatus.PREPARING, PaymentStatus.UNPAID):
        _event(application.pk, "payment_cancel_requested", actor)
        cancel_payment.enqueue(application_id=application.pk)
    elif application.payment_status in REFUNDABLE_PAYMENT:
        locked = Application.objects.select_for_update().get(pk=application.pk)
        amount = refundable_amount(application=locked)
        if amount:
            _open_request(
                application=locked,
                amount=amount,
                reason=reason,
                reason_text="",
                requested_by=None,
            )


def payment_paid_after_end(*, application: Application) -> None:
    """In the transaction that marked it paid: money arrived for an
    application already withdrawn or rejected. Flag it and open its refund."""
    Application.objects.filter(pk=application.pk).update(attention="paid_after_end")
    application.refresh_from_db()
    _event(application.pk, "paid_after_end", "kessai")
    amount = refundable_amount(application=application)
    if amount:
        _open_request(
            application=application,
            amount=amount,
            reason=RefundRequest.Reason.PAID_AFTER_END,
            reason_text="",
            requested_by=None,
        )


def payment_cancel_send(*, application_id: int) -> bool:
    """Cancel the payment of an ended application at its gateway. Idempotent
    (a cancelled payment stays cancelled). When the gateway says it was paid
    meanwhile, the paid status is applied: that opens the refund as for any
    late payment."""
    from .services import payment_status_apply

    application = Application.objects.select_related("procedure__department__agency").get(
        pk=application_id
    )
    if application.status not in ENDED:
        return False
    payment = gateway_for(application).payment_cancel(application=application)
    if payment is None:
        # Never created: nothing to cancel; stop a late request too.
        with transaction.atomic():
            moved = Application.objects.filter(
                pk=application.pk,
                payment_status=PaymentStatus.PREPARING,
                kessai_payment_id="",
            ).update(payment_status=PaymentStatus.CANCELLED, updated_at=timezone.now())
            if moved:
                _event(application.pk, "payment_cancelled", "system")
        return bool(moved)
    application.refresh_from_db()
    payment_status_apply(application=application, payment=payment)
    return True


def refund_for_staff(*, application: Application, refund_id: int) -> RefundRequest | None:
    return (
        RefundRequest.objects.select_related("application", "requested_by", "decided_by")
        .filter(application=application, pk=refund_id)
        .first()
    )


SWEEP_AFTER = timedelta(minutes=5)


def refunds_sweep() -> int:
    """Periodic, driven by the domain state rather than by task rows: re-queue
    approved refunds never sent and cancellations a crash dropped, and ask
    the gateway about refunds whose outcome is pending. Each row is claimed by a
    conditional update first, so it is nudged at most once per five minutes
    whatever the number of workers. Returns the rows nudged."""
    from .tasks import cancel_payment, send_refund

    now = timezone.now()
    cutoff = now - SWEEP_AFTER
    nudged = 0
    unsent = RefundRequest.objects.filter(
        status=Status.APPROVED, kessai_refund_id="", updated_at__lt=cutoff
    ).values_list("pk", "updated_at")[:100]
    for refund_id, seen in unsent:
        with transaction.atomic():
            if RefundRequest.objects.filter(pk=refund_id, updated_at=seen).update(updated_at=now):
                send_refund.enqueue(refund_id=refund_id)
                nudged += 1
    for refund in RefundRequest.objects.select_related(
        "application__procedure__department__agency"
    ).filter(status=Status.PENDING, updated_at__lt=cutoff)[:50]:
        if not RefundRequest.objects.filter(pk=refund.pk, updated_at=refund.updated_at).update(
            updated_at=now
        ):
            continue
        nudged += 1
        try:
            refund_refresh(refund=refund)
        except RETRYABLE as exc:
            logger.warning("refund %s: gateway not reachable: %s", refund.pk, exc)
    ended = Application.objects.filter(
        status__in=ENDED,
        payment_status__in=[PaymentStatus.PREPARING, PaymentStatus.UNPAID],
        updated_at__lt=cutoff,
    ).values_list("pk", "updated_at")[:100]
    for application_id, seen in ended:
        with transaction.atomic():
            if Application.objects.filter(pk=application_id, updated_at=seen).update(
                updated_at=now
            ):
                cancel_payment.enqueue(application_id=application_id)
                nudged += 1
    return nudged


def refund_refresh(*, refund: RefundRequest) -> RefundRequest:
    """Ask the gateway about a refund whose outcome is pending."""
    application = refund.application
    answer = gateway_for(application).refund_fetch(application=application, refund=refund)
    if answer is None:
        return refund  # the gateway cannot tell: it stays pending, for staff to check
    with transaction.atomic():
        refund_result_apply(
            refund=refund, refund_id=answer.id, status=answer.status, code=answer.code, at=answer.at
        )
        _refunded_total_apply(application=application, answer=answer)
    return refund
