"""Writes to applications. Status and payment status change only here,
through conditional updates; tasks are enqueued in the same transaction."""

import contextvars
import hashlib
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import ValidationError

from madoguchi.contract import schemas
from madoguchi.contract.client import KessaiError
from madoguchi.contract.signing import SignatureError, verify
from madoguchi.platform.logs import current_request_id
from madoguchi.platform.raw_insert import insert_parts
from madoguchi.shinsei.gateways.base import GatewayPayment, GatewayUnavailable
from madoguchi.shinsei.gateways.kessai.gateway import from_contract
from madoguchi.shinsei.procedures.models import Agency, FormVersion, Procedure
from madoguchi.shinsei.staff.models import StaffAccount

from .kessai import agency_notification_secrets, kessai_client_class
from .keyed_hash import PREFIX, keyed_hash, secret_hash, secret_matches
from .models import (
    STATUS_TRANSITIONS,
    Application,
    ApplicationEvent,
    ApplicationNote,
    CitizenMail,
    Draft,
    ReceivedEvent,
    StoredFile,
)

logger = logging.getLogger(__name__)

PaymentStatus = Application.PaymentStatus
# No 0/O or 1/I, which citizens misread when copying the password down.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105


class ApplicationError(Exception):
    message = gettext_noop("この操作はできません。")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class InvalidTransition(ApplicationError):
    message = gettext_noop("この申請は現在の状態ではその操作ができません。")


WITHDRAW_REFUSED = gettext_noop("受理された申請は取り下げできません。窓口にお問い合わせください。")
ALREADY_WITHDRAWN = gettext_noop("この申請は取り下げ済みです。")


class PaymentNotReady(ApplicationError):
    message = gettext_noop("お支払いの準備中です。しばらくしてから再度お試しください。")


class PaymentEnded(ApplicationError):
    """支払う where nothing is to be paid any more: saying "being prepared"
    would send the citizen back to try again."""

    message = gettext_noop(
        "この申請のお支払いは取り消されました（取下げ・却下など）。お支払いの必要はありません。"
    )


class PaymentAlreadyMade(ApplicationError):
    message = gettext_noop("この申請のお支払いは完了しています。")


class PaymentUnavailable(ApplicationError):
    """Kessai is unreachable or asked us to wait: nothing was started."""

    message = gettext_noop(
        "ただいまお支払いの受付が一時的にできません。料金は請求されていません。"
        "しばらくしてから、もう一度「支払う」を押してください。"
    )


class PaymentOutcomePending(ApplicationError):
    """The gateway's signed word says the citizen may have paid, not yet
    confirmed: a second payment is not offered meanwhile."""

    message = gettext_noop(
        "お支払いの結果を確認しています。二重のお支払いにならないよう、確認が終わるまで"
        "「支払う」はご利用になれません。しばらくしてからこのページを再読み込みしてください。"
    )


class PaymentPastDue(ApplicationError):
    message = gettext_noop(
        "お支払い期限を過ぎたため、お支払いいただけません。手続の担当課にお問い合わせください。"
    )


class NotificationRejected(Exception):
    pass


def _new_reference() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def _event(application_id: int, type_: str, actor: str, **detail: Any) -> None:
    ApplicationEvent.objects.create(
        application_id=application_id, type=type_, actor=actor, detail=detail
    )


def _mail(application_id: int, kind: str) -> None:
    """Queue an email to the citizen, in the caller's transaction."""
    from .tasks import send_citizen_mail

    mail = CitizenMail.objects.create(application_id=application_id, kind=kind)
    send_citizen_mail.enqueue(mail_id=mail.pk)


def _event_and_mail(application_id: int, type_: str, actor: str, kind: str, **detail: Any) -> None:
    """``_event`` then ``_mail``, in the caller's transaction. On PostgreSQL
    both rows in one statement (a data-modifying CTE), as raw SQL: a busy
    path (every "paid" notification) where the ORM compiling two INSERTs was
    a fifth of the receive's CPU."""
    if connection.vendor != "postgresql":
        _event(application_id, type_, actor, **detail)
        _mail(application_id, kind)
        return
    from .tasks import send_citizen_mail

    event = insert_parts(
        ApplicationEvent(application_id=application_id, type=type_, actor=actor, detail=detail)
    )
    mail = insert_parts(CitizenMail(application_id=application_id, kind=kind))
    sql = f'WITH "event" AS ({event.statement()}) {mail.statement()} RETURNING "id"'
    with connection.cursor() as cursor:
        cursor.execute(sql, [*event.params, *mail.params])
        row = cursor.fetchone()
    send_citizen_mail.enqueue(mail_id=row[0])


def _link_files(application: Application, questions: list[dict[str, Any]]) -> None:
    ids = [
        value["file"]
        for q in questions
        if q["type"] == "file" and isinstance(value := application.answers.get(q["name"]), dict)
    ]
    # Only files uploaded for this procedure and not yet claimed by another
    # application: a forged id in a session cannot take someone else's file.
    StoredFile.objects.filter(
        id__in=ids, procedure_id=application.procedure_id, application__isnull=True
    ).update(application=application, keep_until=None)


def _payment_request_fields(now: Any) -> dict[str, Any]:
    return {
        "payment_status": PaymentStatus.PREPARING,
        "payment_requested_at": now,
        "payment_due_at": now + timedelta(days=settings.SHINSEI_PAYMENT_DUE_DAYS),
    }


# Purposes of the keyed hash (each binds the key to one kind of secret).
INQUIRY_PASSWORD = "inquiry-password"  # noqa: S105 - a purpose label, not a password
DRAFT_LINK = "draft-link"


def application_submit(
    *,
    procedure: Procedure,
    form_version: FormVersion,
    answers: dict[str, Any],
    language: str = "ja",
) -> tuple[Application, str]:
    """File an application; return it with the inquiry password (shown once)."""
    from .tasks import request_payment

    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(10))
    fee = procedure.fee_for(answers)
    questions = list(form_version.questions)
    at_submission = bool(fee) and procedure.pays_at_submission
    for _ in range(5):
        try:
            with transaction.atomic():
                now = timezone.now()
                fields: dict[str, Any] = {
                    "payment_status": PaymentStatus.NOT_YET if fee else PaymentStatus.NOT_REQUIRED
                }
                if procedure.fee_kind == Procedure.FeeKind.STAFF_SET:
                    fields["payment_status"] = PaymentStatus.NOT_YET
                if at_submission:
                    fields.update(_payment_request_fields(now))
                application = Application(
                    procedure=procedure,
                    form_version=form_version,
                    reference=_new_reference(),
                    inquiry_password=secret_hash(password, purpose=INQUIRY_PASSWORD),
                    fee_amount=fee,
                    language="en" if language == "en" else "ja",
                    **fields,
                )
                # A data key of its own, stored wrapped in the same row: no
                # extra query, and deleting the row shreds the key.
                application.key_new()
                application.answers_seal(answers)
                application.save(force_insert=True)
                _link_files(application, questions)
                _event(application.pk, "submitted", "citizen")
                _mail(application.pk, CitizenMail.Kind.SUBMITTED)
                if at_submission:
                    request_payment.enqueue(
                        application_id=application.pk, request_id=current_request_id()
                    )
            return application, password
        except IntegrityError:
            continue  # reference collision: draw again
    raise RuntimeError("could not allocate a reference number")


def application_authenticate(*, reference: str, password: str) -> Application | None:
    application = (
        Application.objects.select_related("procedure").filter(reference=reference).first()
    )
    typed = password.strip().upper()
    if application is None:
        # The same work as a real check, so timing does not reveal references.
        secret_matches(typed, PREFIX, purpose=INQUIRY_PASSWORD)
        return None
    matches = secret_matches(typed, application.inquiry_password, purpose=INQUIRY_PASSWORD)
    if matches is None:  # stored as Argon2id before the keyed hash
        matches = check_password(typed, application.inquiry_password)
    return application if matches else None


def in_scope(staff: StaffAccount, application: Application) -> bool:
    if staff.agency_wide:
        return bool(application.procedure.department.agency_id == staff.department.agency_id)
    return bool(application.procedure.department_id == staff.department_id)


def _check_scope(staff: StaffAccount, application: Application) -> None:
    if not in_scope(staff, application):
        raise InvalidTransition("所管外の申請です。")


def application_status_move(
    *, application: Application, action: str, where: dict[str, Any] | None = None, **fields: Any
) -> bool:
    """The only writer of an application's status: a conditional UPDATE from
    the statuses ``STATUS_TRANSITIONS`` allows for ``action`` (and ``where``,
    what else must still hold), setting ``fields`` with it. True if it moved;
    False if the application was no longer in a state that allows it."""
    target, allowed_from = STATUS_TRANSITIONS[action]
    return bool(
        Application.objects.filter(
            pk=application.pk, status__in=allowed_from, **(where or {})
        ).update(status=target, **fields)
    )


def application_accept(
    *, application: Application, staff: StaffAccount, amount: int | None = None
) -> Application:
    """受理. For a fee-bearing procedure paid after acceptance, request the
    payment from Kessai; where staff set the fee, ``amount`` is that fee."""
    from .tasks import request_payment

    _check_scope(staff, application)
    procedure = application.procedure
    fee = application.fee_amount
    if procedure.fee_kind == Procedure.FeeKind.STAFF_SET:
        if amount is None or amount < 0 or amount > 10_000_000:
            raise ApplicationError("手数料の金額を0円以上で入力してください。")
        fee = amount
    now = timezone.now()
    with transaction.atomic():
        fields: dict[str, Any] = {
            "accepted_at": now,
            "accepted_by": staff,
            "fee_amount": fee,
            "updated_at": now,
        }
        request = bool(fee) and application.payment_status == PaymentStatus.NOT_YET
        if request:
            fields.update(_payment_request_fields(now))
        elif not fee:
            fields["payment_status"] = PaymentStatus.NOT_REQUIRED
        # The payment fields are decided from this payment status: it must hold.
        where = {"payment_status": application.payment_status} if request or not fee else {}
        changed = application_status_move(
            application=application, action="accept", where=where, **fields
        )
        if not changed:
            raise InvalidTransition()
        _event(application.pk, "accepted", staff.account_key, amount=fee)
        if request:
            # The "accepted" email goes out once the payment link exists.
            request_payment.enqueue(application_id=application.pk, request_id=current_request_id())
        else:
            _mail(application.pk, CitizenMail.Kind.ACCEPTED)
    application.refresh_from_db()
    return application


def _decide(
    *,
    application: Application,
    staff: StaffAccount,
    reason: str,
    action: str,
    mail: str,
) -> Application:
    _check_scope(staff, application)
    target = STATUS_TRANSITIONS[action][0]
    reason = reason.strip()
    if not reason:
        raise ApplicationError("理由を入力してください。")
    now = timezone.now()
    with transaction.atomic():
        decided: dict[str, Any] = {"decided_at": now, "decided_by": staff, "updated_at": now}
        if not application_status_move(
            application=application, action=action, reason=reason, **decided
        ):
            raise InvalidTransition()
        _event(application.pk, target, staff.account_key, reason=reason)
        _mail(application.pk, mail)
        application.refresh_from_db()
        if target == Application.Status.REJECTED:
            from .refunds import payment_follow_end

            payment_follow_end(application=application, actor=staff.account_key)
    return application


def application_reject(
    *, application: Application, staff: StaffAccount, reason: str
) -> Application:
    """却下, with the reason the citizen will read."""
    return _decide(
        application=application,
        staff=staff,
        reason=reason,
        action="reject",
        mail=CitizenMail.Kind.REJECTED,
    )


def application_return(
    *, application: Application, staff: StaffAccount, reason: str
) -> Application:
    """差戻し: the citizen corrects and resubmits."""
    return _decide(
        application=application,
        staff=staff,
        reason=reason,
        action="return",
        mail=CitizenMail.Kind.RETURNED,
    )


def application_complete(*, application: Application, staff: StaffAccount) -> Application:
    """処理完了: only once any fee is paid."""
    _check_scope(staff, application)
    now = timezone.now()
    with transaction.atomic():
        changed = application_status_move(
            application=application,
            action="complete",
            where={
                "payment_status__in": [
                    PaymentStatus.NOT_REQUIRED,
                    PaymentStatus.PAID,
                    PaymentStatus.PARTIALLY_REFUNDED,
                ]
            },
            decided_at=now,
            decided_by=staff,
            updated_at=now,
        )
        if not changed:
            raise InvalidTransition("手数料の決済が済んでいないか、受理されていない申請です。")
        _event(application.pk, "completed", staff.account_key)
        _mail(application.pk, CitizenMail.Kind.COMPLETED)
    application.refresh_from_db()
    return application


def application_note_add(
    *, application: Application, staff: StaffAccount, body: str
) -> ApplicationNote:
    _check_scope(staff, application)
    body = body.strip()
    if not body:
        raise ApplicationError("メモを入力してください。")
    return ApplicationNote.objects.create(
        application=application,
        author=staff,
        body_sealed=application.seal(body[:4000].encode(), "note"),
    )


def application_withdraw(*, application: Application) -> Application:
    """取下げ by the citizen, possible until the department accepts."""
    now = timezone.now()
    with transaction.atomic():
        changed = application_status_move(
            application=application, action="withdraw", decided_at=now, updated_at=now
        )
        if not changed:
            raise InvalidTransition(WITHDRAW_REFUSED)
        _event(application.pk, "withdrawn", "citizen")
        application.refresh_from_db()
        from .refunds import payment_follow_end

        payment_follow_end(application=application, actor="citizen")
    return application


def application_resubmit(*, application: Application, answers: dict[str, Any]) -> Application:
    """Corrected answers after 差戻し; the application keeps its form version."""
    fee = application.procedure.fee_for(answers)
    questions = application.questions
    now = timezone.now()
    with transaction.atomic():
        changed = application_status_move(
            application=application,
            action="resubmit",
            answers_sealed=application.seal_json(answers, "answers"),
            # A fee already being collected at submission keeps its amount.
            fee_amount=fee
            if application.payment_status == PaymentStatus.NOT_YET
            else F("fee_amount"),
            resubmitted_at=now,
            updated_at=now,
        )
        if not changed:
            raise InvalidTransition()
        application.refresh_from_db()
        _link_files(application, questions)
        _event(application.pk, "resubmitted", "citizen")
        _mail(application.pk, CitizenMail.Kind.SUBMITTED)
    return application


def draft_save(
    *, procedure: Procedure, form_version: FormVersion, data: dict[str, Any]
) -> tuple[Draft, str]:
    """一時保存; returns the draft and its secret token (shown once, as a link)."""
    token = secrets.token_urlsafe(24)
    draft = Draft(
        token_hash=keyed_hash(token, purpose=DRAFT_LINK),
        procedure=procedure,
        form_version=form_version,
        expires_at=timezone.now() + timedelta(days=settings.SHINSEI_DRAFT_DAYS),
    )
    draft.key_new()
    draft.data_sealed = draft.seal_json(data, "draft")
    with transaction.atomic():
        draft.save(force_insert=True)
        # The draft's files stay as long as the draft can be reopened.
        file_ids = [v["file"] for v in data.get("files", {}).values() if isinstance(v, dict)]
        StoredFile.objects.filter(id__in=file_ids, application__isnull=True).update(
            keep_until=draft.expires_at
        )
    return draft, token


def draft_open(*, token: str) -> Draft | None:
    return (
        Draft.objects.select_related("procedure", "form_version")
        .filter(
            # Links saved before the keyed hash were stored as plain SHA-256.
            token_hash__in=[
                keyed_hash(token, purpose=DRAFT_LINK),
                hashlib.sha256(token.encode()).hexdigest(),
            ],
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def payment_request_send(*, application_id: int) -> bool:
    """Make the payment exist at the agency's gateway. Idempotent: a payment
    already linked is left alone. Returns True when linked."""
    from madoguchi.shinsei.gateways.registry import gateway_for

    application = Application.objects.select_related("procedure__department__agency").get(
        pk=application_id
    )
    if application.payment_status != PaymentStatus.PREPARING or application.kessai_payment_id:
        return True
    gateway = gateway_for(application)
    payment = gateway.payment_create(application=application)
    with transaction.atomic():
        Application.objects.filter(pk=application.pk, kessai_payment_id="").update(
            kessai_payment_id=payment.id, payment_gateway=gateway.code, updated_at=timezone.now()
        )
        application.refresh_from_db()
        payment_status_apply(application=application, payment=payment)
        if application.status in (Application.Status.WITHDRAWN, Application.Status.REJECTED):
            # Ended while the request was on its way: cancel what was created.
            from .tasks import cancel_payment

            cancel_payment.enqueue(application_id=application.pk)
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
    schemas.PaymentStatus.REFUNDED: (
        PaymentStatus.REFUNDED,
        [PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED],
    ),
}


PAYMENT_MISMATCH = "payment_mismatch"


def payment_mismatches(*, application: Application, payment: GatewayPayment) -> list[str]:
    """What differs between the payment the gateway describes and the one we
    asked for (a gateway that reports no amount is checked by reference only)."""
    differs = []
    if payment.reference != application.reference:
        differs.append("reference")
    if payment.amount is not None and payment.amount != application.fee_amount:
        differs.append("amount")
    return differs


def payment_mismatch_flag(
    *, application: Application, payment: GatewayPayment, differs: list[str], source: str
) -> None:
    """Raise a payment that is not what we requested to staff (an event the
    detail page shows as a warning); it changes no status."""
    _event(
        application.pk,
        PAYMENT_MISMATCH,
        application.payment_gateway or "kessai",
        source=source,
        differs=",".join(differs),
        payment=payment.id,
        status=str(payment.status),
        reference=payment.reference,
        amount=payment.amount,
        expected_amount=application.fee_amount,
    )
    logger.error(
        "payment %s for application %s differs in %s (%s): not applied",
        payment.id,
        application.reference,
        ",".join(differs),
        source,
    )


def payment_status_apply(
    *,
    application: Application,
    payment: GatewayPayment,
    source: str = "gateway",
    locked: bool = False,
) -> bool:
    """Apply the gateway's view of the payment monotonically. Returns True if changed.

    A payment whose reference or amount is not what we requested is never
    applied: it is raised to staff instead (``payment_mismatch_flag``).
    ``locked``: the caller's transaction holds the row lock and ``application``
    is the row as locked, so the new values are set on it without reading the
    row back, and no savepoint of its own is needed."""
    if payment.id != application.kessai_payment_id:
        raise NotificationRejected("payment does not belong to this application")
    if differs := payment_mismatches(application=application, payment=payment):
        with transaction.atomic():
            payment_mismatch_flag(
                application=application, payment=payment, differs=differs, source=source
            )
        return False
    target, allowed_from = _PAYMENT_TRANSITIONS[payment.status]
    actor = application.payment_gateway or "kessai"
    fields: dict[str, Any] = {"payment_status": target, "updated_at": timezone.now()}
    if target == PaymentStatus.PAID:
        fields.update(payment_method=payment.method, paid_at=payment.paid_at)
    if target == PaymentStatus.REFUNDED:
        fields.update(refunded_amount=payment.refunded_amount, refunded_at=timezone.now())
    with transaction.atomic(savepoint=not locked):
        changed = Application.objects.filter(
            pk=application.pk, payment_status__in=allowed_from
        ).update(**fields)
        if changed:
            if locked:
                for name, value in fields.items():
                    setattr(application, name, value)
            else:
                application.refresh_from_db()
            if target == PaymentStatus.PAID:
                _event_and_mail(
                    application.pk,
                    "paid",
                    actor,
                    CitizenMail.Kind.PAID,
                    method=fields["payment_method"],
                )
                if application.status in (
                    Application.Status.WITHDRAWN,
                    Application.Status.REJECTED,
                ):
                    from .refunds import payment_paid_after_end

                    payment_paid_after_end(application=application)
            elif (
                target == PaymentStatus.UNPAID and application.status == Application.Status.ACCEPTED
            ):
                # The acceptance email carries the payment link and due date.
                _mail(application.pk, CitizenMail.Kind.ACCEPTED)
            else:
                _event(application.pk, f"payment_{target}", actor)
        if payment.refunded_amount and target != PaymentStatus.REFUNDED:
            from .refunds import refunds_apply

            changed += refunds_apply(
                application=application, refunded_amount=payment.refunded_amount
            )
    return bool(changed)


def payment_check_claim(
    *, application: Application, interval: timedelta, now: datetime | None = None
) -> bool:
    """Claim the right to ask the gateway about this payment now: a
    conditional UPDATE of ``payment_checked_at`` that succeeds for one caller
    only, and only if nobody asked within ``interval`` (the owner's return and
    the reconcile sweep share it, so neither asks twice nor on top of the
    other)."""
    now = now or timezone.now()
    return bool(
        Application.objects.filter(pk=application.pk)
        .filter(Q(payment_checked_at__isnull=True) | Q(payment_checked_at__lt=now - interval))
        .update(payment_checked_at=now)
    )


# The citizen's return from Kessai asks Kessai at most this often per application.
RETURN_REFRESH_INTERVAL = timedelta(seconds=30)


def payment_status_refresh_for_owner(*, application: Application) -> Application:
    """The owner is back from Kessai's page: learn the outcome now rather than
    at the next reconcile round, but at most once per
    ``RETURN_REFRESH_INTERVAL`` per application (claimed with a conditional
    update, so reloads and parallel tabs cost one call), never while Kessai
    asked us to wait, and never failing the page: the notification and the
    reconcile sweep bring the outcome anyway."""
    from .kessai import kessai_backing_off

    if application.payment_status not in UNFINISHED_PAYMENT or not application.kessai_payment_id:
        return application
    if kessai_backing_off(application.procedure.department.agency):
        return application
    claimed_at = timezone.now()
    if not payment_check_claim(
        application=application, interval=RETURN_REFRESH_INTERVAL, now=claimed_at
    ):
        return application
    try:
        payment_status_refresh(application=application)
    except (httpx.HTTPError, KessaiError, GatewayUnavailable) as exc:
        logger.warning("payment check for %s failed: %s", application.reference, exc)
        payment_check_release(application=application, claimed_at=claimed_at)
    return application


def payment_check_release(*, application: Application, claimed_at: datetime) -> None:
    """A check that got no answer counts as one for ``RETURN_REFRESH_INTERVAL``
    only: the owner may ask again after it and the reconcile sweep takes the
    payment at its next round, rather than ``SHINSEI_RECONCILE_SECONDS`` later
    (only if no one checked since: a conditional update)."""
    reconcile = timedelta(seconds=settings.SHINSEI_RECONCILE_SECONDS)
    Application.objects.filter(pk=application.pk, payment_checked_at=claimed_at).update(
        payment_checked_at=claimed_at - max(reconcile - RETURN_REFRESH_INTERVAL, timedelta(0))
    )


def payment_status_refresh(
    *, application: Application, client_class: str = "interactive"
) -> Application:
    """Ask the gateway for the payment's status (the browser's return is not trusted).
    ``client_class``: whose call this is, for Kessai's rate budgets."""
    from madoguchi.shinsei.gateways.registry import gateway_for

    if not application.kessai_payment_id:
        return application
    with kessai_client_class(client_class):
        payment = gateway_for(application).payment_fetch(application=application)
    if payment is not None:
        payment_status_apply(
            application=application,
            payment=payment,
            source=application.payment_gateway or "kessai",
        )
    return application


def payment_checkout_start(*, application: Application, request: HttpRequest) -> HttpResponse:
    """支払う: the gateway's way to its payment page (a redirect, a form post)."""
    from madoguchi.shinsei.gateways.registry import gateway_for

    if application.payment_status != PaymentStatus.UNPAID:
        raise _not_payable(application)
    gateway = gateway_for(application)
    if gateway.payment_outcome_pending(application=application):
        raise PaymentOutcomePending()
    try:
        return gateway.checkout_start(application=application, request=request)
    except (httpx.HTTPError, GatewayUnavailable) as exc:
        # Unreachable, timed out, or backing off after a 429: nothing started.
        logger.warning("checkout for %s: gateway unavailable: %s", application.reference, exc)
        raise PaymentUnavailable() from exc
    except KessaiError as exc:
        logger.warning("checkout for %s refused: %s", application.reference, exc)
        if exc.error.code == "payment_past_due":
            raise PaymentPastDue() from exc
        if exc.is_retryable:
            raise PaymentUnavailable() from exc
        if exc.error.code == "payment_not_payable":
            # Paid, cancelled or expired meanwhile: bring our status up to date
            # (the notification does too); the status page shows the outcome.
            payment_status_refresh_for_owner(application=application)
            application.refresh_from_db(fields=["payment_status"])
            raise _not_payable(application) from exc
        raise PaymentNotReady() from exc


def _not_payable(application: Application) -> ApplicationError:
    """Why 支払う cannot start, in the words of the payment's state."""
    if application.payment_status in (PaymentStatus.CANCELLED, PaymentStatus.NOT_REQUIRED):
        return PaymentEnded()
    if application.payment_status == PaymentStatus.EXPIRED:
        return PaymentPastDue()
    if application.payment_status in (
        PaymentStatus.PAID,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    ):
        return PaymentAlreadyMade()
    return PaymentNotReady()


def _event_id_record(event_id: str, type_: str) -> bool:
    """Record a notification's event id; False if it was recorded before.
    ``INSERT … ON CONFLICT DO NOTHING``: a duplicate is an answer, not an
    error, so it needs no savepoint of its own inside the caller's transaction."""
    quote = connection.ops.quote_name
    received_at = ReceivedEvent._meta.get_field("received_at")
    sql = (
        f"INSERT INTO {quote(ReceivedEvent._meta.db_table)} "  # noqa: S608 - our own names
        f"({quote('event_id')}, {quote('type')}, {quote('received_at')}) VALUES (%s, %s, %s) "
        f"ON CONFLICT ({quote('event_id')}) DO NOTHING RETURNING {quote('id')}"
    )
    params = [event_id, type_, received_at.get_db_prep_value(timezone.now(), connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


# What ``notification_receive`` and ``payment_status_apply`` read of the locked row.
RECEIVE_COLUMNS = (
    "procedure_id",
    "reference",
    "status",
    "fee_amount",
    "payment_status",
    "payment_gateway",
    "kessai_payment_id",
    "refunded_amount",
)


def notification_receive(*, agency: Agency, body: bytes, signature: str) -> bool:
    """Verify, deduplicate and apply a Kessai notification. True if applied now."""
    try:
        verify(signature, body, agency_notification_secrets(agency))
    except SignatureError as exc:
        raise NotificationRejected(str(exc)) from exc
    try:
        event = schemas.Event.model_validate_json(body)
    except ValidationError as exc:
        # Signed, but not JSON or not an event of contract v1: refuse it
        # clearly (Kessai keeps it for its operators), never a server error.
        raise NotificationRejected(f"not a contract v1 event: {exc.error_count()} errors") from exc
    payment = event.data.payment
    with transaction.atomic():
        if not _event_id_record(event.id, str(event.type)):
            return False  # delivered before; at-least-once delivery
        # The application's row alone: a bare FOR UPDATE would lock the
        # joined procedure, department and agency rows too, and every
        # notification of the agency would queue on them.
        # Only the columns applying a payment reads (another loads, in this
        # transaction, if a rarer path needs it), and no ORDER BY (``first()``
        # adds one): a payment id and a reference each name one application.
        # Compiling the SELECT of every column was a quarter of this CPU.
        locked = Application.objects.select_for_update(of=("self",)).only(*RECEIVE_COLUMNS)
        application = next(
            iter(
                locked.filter(kessai_payment_id=payment.id, procedure__department__agency=agency)[
                    :1
                ]
            ),
            None,
        )
        if application is None:
            # The notification raced ahead of our own record of the payment id.
            application = next(
                iter(
                    locked.filter(
                        reference=payment.reference,
                        procedure__department__agency=agency,
                        kessai_payment_id="",
                    )[:1]
                ),
                None,
            )
            if application is None:
                raise NotificationRejected("unknown payment")
            Application.objects.filter(pk=application.pk).update(kessai_payment_id=payment.id)
            application.kessai_payment_id = payment.id  # the row is locked: this is its value
        received = from_contract(payment)
        if differs := payment_mismatches(application=application, payment=received):
            # Signed, but not what we asked for: flag it and ask Kessai itself
            # (the notification's word is not enough to mark anything paid).
            from .tasks import check_payment

            payment_mismatch_flag(
                application=application,
                payment=received,
                differs=differs,
                source="notification",
            )
            check_payment.enqueue(application_id=application.pk)
            return False
        payment_status_apply(application=application, payment=received, locked=True)
        if event.type == schemas.EventType.PAYMENT_REFUNDED:
            from .refunds import refund_notification_apply

            refund_notification_apply(application=application, refund=event.data.refund)
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


UNFINISHED_PAYMENT = [PaymentStatus.PREPARING, PaymentStatus.UNPAID]


FetchAnswer = GatewayPayment | None | httpx.HTTPError | KessaiError | GatewayUnavailable


def _payment_fetch(application: Application) -> GatewayPayment | None:
    """The gateway's view of the application's payment (runs in the sweep's
    threads; each call bounded by the gateway client's timeouts)."""
    from madoguchi.shinsei.gateways.registry import gateway_for

    return gateway_for(application).payment_fetch(application=application)


def _payments_fetch(applications: list[Application]) -> list[FetchAnswer]:
    """Ask about each payment, ``SHINSEI_RECONCILE_CONCURRENCY`` at a time,
    so 50 checks take a few round trips rather than 50 one after another."""

    def fetch(application: Application) -> FetchAnswer:
        try:
            return _payment_fetch(application)
        except (httpx.HTTPError, KessaiError, GatewayUnavailable) as exc:
            return exc

    def fetch_in_thread(application: Application) -> FetchAnswer:
        try:
            return fetch(application)
        finally:
            connections.close_all()  # this pool thread's own, if a gateway opened one

    workers = min(settings.SHINSEI_RECONCILE_CONCURRENCY, len(applications))
    if workers <= 1:
        return [fetch(application) for application in applications]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Each thread runs in a copy of the caller's context (its request id).
        futures = [
            pool.submit(contextvars.copy_context().run, fetch_in_thread, application)
            for application in applications
        ]
        return [future.result() for future in futures]


def payments_reconcile(*, batch: int = 50) -> int:
    """Ask Kessai for every unfinished payment, oldest check first, so a lost
    notification never leaves an application wrong for long. Returns the
    number of applications whose payment status changed."""
    now = timezone.now()
    interval = timedelta(seconds=settings.SHINSEI_RECONCILE_SECONDS)
    due = (
        Application.objects.filter(payment_status__in=UNFINISHED_PAYMENT)
        .exclude(kessai_payment_id="")
        .exclude(payment_checked_at__gte=now - interval)
        .select_related("procedure__department__agency")
        .order_by(F("payment_checked_at").asc(nulls_first=True), "id")[:batch]
    )
    # Claim each first: two workers never ask about the same payment at once.
    claimed = [
        application
        for application in due
        if payment_check_claim(application=application, interval=interval, now=now)
    ]
    changed = 0
    with kessai_client_class("background"):  # the sweep's calls: the worker's budget
        answers = _payments_fetch(claimed)
    for application, answer in zip(claimed, answers, strict=True):
        if isinstance(answer, Exception):
            # The gateway unreachable: try again at the next round.
            logger.warning("payment check for %s failed: %s", application.reference, answer)
            continue
        if answer is None:
            continue
        before = application.payment_status
        payment_status_apply(
            application=application,
            payment=answer,
            source=application.payment_gateway or "kessai",
        )
        changed += application.payment_status != before
    return changed


def payments_reconcile_periodic() -> None:
    payments_reconcile()


def leftovers_sweep() -> int:
    """Delete expired drafts, and the files no application claimed once
    their time is up (hours after upload, or when their draft expires).
    Returns files deleted."""
    from .files import file_discard

    now = timezone.now()
    Draft.objects.filter(expires_at__lt=now).delete()
    orphans = list(StoredFile.objects.filter(application__isnull=True, keep_until__lt=now)[:500])
    for stored in orphans:
        file_discard(stored)
    return len(orphans)
