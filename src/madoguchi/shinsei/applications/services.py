"""Writes to applications. Status and payment status change only here,
through conditional updates; tasks are enqueued in the same transaction."""

import logging
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from madoguchi.contract import schemas
from madoguchi.contract.client import KessaiError
from madoguchi.contract.signing import SignatureError, verify
from madoguchi.shinsei.procedures.models import Agency, Procedure
from madoguchi.shinsei.staff.models import StaffAccount

from .kessai import kessai_client
from .models import Application, ReceivedEvent

logger = logging.getLogger(__name__)

PaymentStatus = Application.PaymentStatus
# No 0/O or 1/I, which citizens misread when copying the password down.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105


class ApplicationError(Exception):
    message = "この操作はできません。"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class InvalidTransition(ApplicationError):
    message = "この申請は現在の状態ではその操作ができません。"


class PaymentNotReady(ApplicationError):
    message = "お支払いの準備中です。しばらくしてから再度お試しください。"


class NotificationRejected(Exception):
    pass


def _new_reference() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def application_submit(*, procedure: Procedure, answers: dict[str, Any]) -> tuple[Application, str]:
    """File an application; return it with the inquiry password (shown once)."""
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(10))
    fee = procedure.fee_for(answers)
    for _ in range(5):
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    procedure=procedure,
                    reference=_new_reference(),
                    inquiry_password=make_password(password),
                    answers=answers,
                    fee_amount=fee,
                    payment_status=PaymentStatus.NOT_YET if fee else PaymentStatus.NOT_REQUIRED,
                )
            return application, password
        except IntegrityError:
            continue  # reference collision: draw again
    raise RuntimeError("could not allocate a reference number")


def application_authenticate(*, reference: str, password: str) -> Application | None:
    application = (
        Application.objects.select_related("procedure").filter(reference=reference).first()
    )
    if application is None:
        # Spend the same time as a real check so timing does not reveal references.
        make_password(password)
        return None
    if not check_password(password.strip().upper(), application.inquiry_password):
        return None
    return application


def application_accept(*, application: Application, staff: StaffAccount) -> Application:
    """受理. For a fee-bearing procedure, request the payment from Kessai."""
    from .tasks import request_payment

    if application.procedure.department_id != staff.department_id:
        raise InvalidTransition("所管外の申請です。")
    now = timezone.now()
    with transaction.atomic():
        fields: dict[str, Any] = {
            "status": Application.Status.ACCEPTED,
            "accepted_at": now,
            "accepted_by": staff,
            "updated_at": now,
        }
        if application.fee_amount:
            fields.update(
                payment_status=PaymentStatus.PREPARING,
                payment_requested_at=now,
                payment_due_at=now + timedelta(days=settings.SHINSEI_PAYMENT_DUE_DAYS),
            )
        changed = Application.objects.filter(
            pk=application.pk, status=Application.Status.SUBMITTED
        ).update(**fields)
        if not changed:
            raise InvalidTransition()
        if application.fee_amount:
            request_payment.enqueue(application_id=application.pk)
    application.refresh_from_db()
    return application


def idempotency_key_for_payment(application: Application) -> str:
    return f"shinsei-application-{application.pk}-payment"


def return_url_for(application: Application) -> str:
    base = settings.SHINSEI_PUBLIC_URL.rstrip("/")
    return f"{base}/applications/{application.reference}/payment-return"


def payment_request_send(*, application_id: int) -> bool:
    """Create the payment on Kessai. Idempotent: the same key every time, and a
    payment already linked is left alone. Returns True when linked."""
    application = Application.objects.select_related("procedure__department__agency").get(
        pk=application_id
    )
    if application.payment_status != PaymentStatus.PREPARING or application.kessai_payment_id:
        return True
    agency = application.procedure.department.agency
    request = schemas.PaymentCreateRequest(
        reference=application.reference,
        amount=application.fee_amount,
        return_url=return_url_for(application),
        due_at=application.payment_due_at,
    )
    with kessai_client(agency) as client:
        try:
            payment = client.create_payment(
                request, idempotency_key=idempotency_key_for_payment(application)
            )
        except KessaiError as exc:
            if exc.error.code != "reference_in_use":
                raise
            # Created earlier under a key that has since expired: adopt it.
            payment = next(
                p
                for p in client.list_payments(reference=application.reference)
                if p.status
                in (
                    schemas.PaymentStatus.CREATED,
                    schemas.PaymentStatus.STARTED,
                    schemas.PaymentStatus.SUCCEEDED,
                )
            )
    Application.objects.filter(pk=application.pk, kessai_payment_id="").update(
        kessai_payment_id=payment.id, updated_at=timezone.now()
    )
    application.refresh_from_db()
    payment_status_apply(application=application, payment=payment)
    return True


# Kessai status -> Shinsei payment status, and what it may replace. "Paid" wins
# over everything (a success that arrives late still counts); an ending state
# never replaces "paid".
_PAYMENT_TRANSITIONS: dict[schemas.PaymentStatus, tuple[str, list[str]]] = {
    schemas.PaymentStatus.CREATED: (PaymentStatus.UNPAID, [PaymentStatus.PREPARING]),
    schemas.PaymentStatus.STARTED: (PaymentStatus.UNPAID, [PaymentStatus.PREPARING]),
    schemas.PaymentStatus.SUCCEEDED: (
        PaymentStatus.PAID,
        [
            PaymentStatus.PREPARING,
            PaymentStatus.UNPAID,
            PaymentStatus.EXPIRED,
            PaymentStatus.CANCELLED,
        ],
    ),
    schemas.PaymentStatus.EXPIRED: (
        PaymentStatus.EXPIRED,
        [PaymentStatus.PREPARING, PaymentStatus.UNPAID],
    ),
    schemas.PaymentStatus.CANCELLED: (
        PaymentStatus.CANCELLED,
        [PaymentStatus.PREPARING, PaymentStatus.UNPAID],
    ),
    # Refunded in full: only after paid, and nothing ever replaces it.
    schemas.PaymentStatus.REFUNDED: (PaymentStatus.REFUNDED, [PaymentStatus.PAID]),
}


def payment_status_apply(*, application: Application, payment: schemas.Payment) -> bool:
    """Apply Kessai's view of the payment monotonically. Returns True if changed."""
    if payment.id != application.kessai_payment_id or payment.reference != application.reference:
        raise NotificationRejected("payment does not belong to this application")
    target, allowed_from = _PAYMENT_TRANSITIONS[payment.status]
    fields: dict[str, Any] = {"payment_status": target, "updated_at": timezone.now()}
    if target == PaymentStatus.PAID:
        fields.update(
            payment_method=payment.method.value if payment.method else "", paid_at=payment.paid_at
        )
    changed = Application.objects.filter(pk=application.pk, payment_status__in=allowed_from).update(
        **fields
    )
    if changed:
        application.refresh_from_db()
    return bool(changed)


def payment_status_refresh(*, application: Application) -> Application:
    """Ask Kessai for the payment's status (the browser's return is not trusted)."""
    if not application.kessai_payment_id:
        return application
    agency = application.procedure.department.agency
    with kessai_client(agency) as client:
        payment = client.get_payment(application.kessai_payment_id)
    payment_status_apply(application=application, payment=payment)
    return application


def checkout_link_create(*, application: Application) -> str:
    if application.payment_status != PaymentStatus.UNPAID:
        raise PaymentNotReady()
    agency = application.procedure.department.agency
    with kessai_client(agency) as client:
        # A fresh key per press: every press deserves its own single-use link.
        link = client.create_checkout(
            application.kessai_payment_id, idempotency_key=f"shinsei-checkout-{uuid.uuid4()}"
        )
    return link.url


def notification_receive(*, agency: Agency, body: bytes, signature: str) -> bool:
    """Verify, deduplicate and apply a Kessai notification. True if applied now."""
    try:
        verify(signature, body, agency.kessai_notification_secrets)
    except SignatureError as exc:
        raise NotificationRejected(str(exc)) from exc
    event = schemas.Event.model_validate_json(body)
    payment = event.data.payment
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReceivedEvent.objects.create(event_id=event.id, type=event.type)
        except IntegrityError:
            return False  # delivered before; at-least-once delivery
        application = (
            Application.objects.select_for_update()
            .filter(kessai_payment_id=payment.id, procedure__department__agency=agency)
            .first()
        )
        if application is None:
            # The notification raced ahead of our own record of the payment id.
            application = (
                Application.objects.select_for_update()
                .filter(
                    reference=payment.reference,
                    procedure__department__agency=agency,
                    kessai_payment_id="",
                )
                .first()
            )
            if application is None:
                raise NotificationRejected("unknown payment")
            Application.objects.filter(pk=application.pk).update(kessai_payment_id=payment.id)
            application.refresh_from_db()
        payment_status_apply(application=application, payment=payment)
    return True


def applications_sweep() -> None:
    """Re-send payment requests a crash or outage left behind."""
    from .tasks import request_payment

    now = timezone.now()
    stale = Application.objects.filter(
        payment_status=PaymentStatus.PREPARING,
        kessai_payment_id="",
        payment_requested_at__lt=now - timedelta(minutes=5),
    ).values_list("pk", flat=True)[:100]
    for application_id in stale:
        with transaction.atomic():
            # Bumping the timestamp limits this to one nudge per five minutes.
            bumped = Application.objects.filter(
                pk=application_id, payment_requested_at__lt=now - timedelta(minutes=5)
            ).update(payment_requested_at=now)
            if bumped:
                request_payment.enqueue(application_id=application_id)
