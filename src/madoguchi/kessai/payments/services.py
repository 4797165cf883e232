"""Writes to payments. Every status change goes through ``_transition`` (a
conditional UPDATE that never leaves a final state), writes an event and
enqueues the notification in the same transaction."""

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from madoguchi.contract import schemas
from madoguchi.contract.schemas import EventType, PaymentMethod, PaymentStatus
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.providers.base import (
    ProviderNotReached,
    ProviderResult,
    ProviderUnavailable,
    RefundResult,
)
from madoguchi.kessai.providers.card.cards import CardDetails, detect_brand
from madoguchi.kessai.providers.registry import get_registry
from madoguchi.platform.logs import current_request_id
from madoguchi.platform.raw_insert import Sql, insert_parts

from .errors import (
    AttemptInProgress,
    CheckoutLinkInvalid,
    IdempotencyConflict,
    IdempotencyInProgress,
    KessaiServiceError,
    PaymentNotCancellable,
    PaymentNotPayable,
    PaymentNotRefundable,
    PaymentPastDue,
    ReferenceInUse,
    RefundAmountMismatch,
    RefundAmountUnavailable,
)
from .ledger import ledger_add
from .models import (
    ApplePayTransaction,
    Attempt,
    CheckoutToken,
    IdempotencyRecord,
    Notification,
    Payment,
    PaymentEvent,
    Refund,
)
from .selectors import payment_to_contract, refund_to_contract

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
# A pending attempt older than this is presumed abandoned (a crash between
# "attempt created" and "provider called"): the janitor settles it.
ATTEMPT_STALE_AFTER = timedelta(minutes=2)
PAYABLE_STATUSES = [PaymentStatus.CREATED, PaymentStatus.STARTED]
# Attempts whose outcome is still open: while one exists, no other attempt may
# start and the payment may not be cancelled or expired (the money could move).
OPEN_ATTEMPT_STATUSES = [
    Attempt.Status.PENDING,
    Attempt.Status.UNKNOWN,
    Attempt.Status.REQUIRES_ACTION,
]


# --- idempotency -------------------------------------------------------------


def request_fingerprint(operation: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()


class _KeyTaken(Exception):
    """A live record holds the key: roll this run back and replay it."""


# The record's fields, to prepare its values as save() would (made once: a
# field's construction cost more than the rest of the statement's Python).
_RECORD_BODY = IdempotencyRecord._meta.get_field("response_body")
_RECORD_CREATED_AT = IdempotencyRecord._meta.get_field("created_at")


@dataclass
class IdempotencyClaim:
    """The key an operation's answer is stored under. ``claimed`` is set by an
    operation that wrote the record in its own statement (True, or False if a
    live record holds the key); left None, ``idempotent`` writes it after."""

    merchant: Merchant
    key: str
    fingerprint: str
    claimed: bool | None = None

    def statement(
        self, *, status: int, body: dict[str, Any], only_if: str = ""
    ) -> tuple[str, list[Any]]:
        """``INSERT … RETURNING`` of the record holding ``status`` and ``body``,
        or of nothing if a live record holds the key: INSERT, or take over a
        record of the same key whose 24 hours have passed. If another
        transaction is writing the key at this moment, the unique index makes
        this one wait for it to commit first. ``only_if``: SQL of a query
        (our own, no parameters) the record is written only if it has rows."""
        now = timezone.now()
        body_field, created_field = _RECORD_BODY, _RECORD_CREATED_AT
        quote = connection.ops.quote_name
        columns = ["merchant_id", "key", "request_hash", "response_status", "response_body"]
        names = ", ".join(quote(c) for c in [*columns, "created_at"])
        updates = ", ".join(
            f"{quote(c)} = excluded.{quote(c)}" for c in [*columns[2:], "created_at"]
        )
        table = quote(IdempotencyRecord._meta.db_table)
        # A WHERE in any case: SQLite reads "SELECT … ON CONFLICT" as a join
        # without one.
        condition = f"EXISTS ({only_if})" if only_if else "1 = 1"
        sql = (
            f"INSERT INTO {table} ({names}) SELECT %s, %s, %s, %s, %s, %s WHERE {condition} "
            f"ON CONFLICT ({quote('merchant_id')}, {quote('key')}) DO UPDATE SET {updates} "
            f"WHERE {table}.{quote('created_at')} < %s RETURNING {quote('id')}"
        )
        params = [
            self.merchant.pk,
            self.key,
            self.fingerprint,
            status,
            body_field.get_db_prep_value(body, connection),
            created_field.get_db_prep_value(now, connection),
            created_field.get_db_prep_value(now - IDEMPOTENCY_WINDOW, connection),
        ]
        return sql, params

    def write(self, *, status: int, body: dict[str, Any]) -> bool:
        """The record in a statement of its own; False when the key is taken."""
        sql, params = self.statement(status=status, body=body)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None


def _idempotency_replay(
    *, merchant: Merchant, key: str, fingerprint: str
) -> tuple[int, dict[str, Any]] | None:
    record = IdempotencyRecord.objects.filter(
        merchant=merchant, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_WINDOW
    ).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict()
    return record.response_status, record.response_body


def idempotent(
    *,
    merchant: Merchant,
    key: str,
    fingerprint: str,
    operation: Callable[[IdempotencyClaim], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Run ``operation`` once per (merchant, key); replay its answer after.

    One transaction: the operation, then its answer stored under the key. A
    repeat (sequential or concurrent) finds the key taken when it tries to
    store its own answer, or fails the operation itself (the reference is in
    use, the payment already cancelled); either way its work is rolled back
    and the first answer is replayed, so one key and body always get one
    answer. A different body under the key is 409 ``idempotency_key_reused``.
    No look-up before the work: the first request, by far the common one,
    pays for nothing but its writes. An operation that knows its answer
    before it writes may store it in its own statement (``claim.statement``,
    setting ``claim.claimed``): one round trip fewer.
    """
    claim = IdempotencyClaim(merchant=merchant, key=key, fingerprint=fingerprint)
    try:
        with transaction.atomic():
            status, body = operation(claim)
            if claim.claimed is None:
                claim.claimed = claim.write(status=status, body=body)
            if not claim.claimed:
                raise _KeyTaken()
            return status, body
    except (_KeyTaken, KessaiServiceError, IntegrityError) as exc:
        previous = _idempotency_replay(merchant=merchant, key=key, fingerprint=fingerprint)
        if previous is not None:
            return previous
        if isinstance(exc, _KeyTaken):  # its record expired in between: rare
            raise IdempotencyInProgress() from exc
        raise


def idempotency_sweep(*, batch: int = 5000) -> int:
    """Delete records whose 24 hours have passed (periodic; the request path
    only takes over an expired record when its own key is reused)."""
    cutoff = timezone.now() - IDEMPOTENCY_WINDOW
    ids = list(
        IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:batch]
    )
    deleted, _ = IdempotencyRecord.objects.filter(id__in=ids).delete()
    return deleted


# --- payments ----------------------------------------------------------------


def _event(payment: Payment, type: str, **data: Any) -> None:
    PaymentEvent.objects.create(payment=payment, type=type, data=data)


def payment_create(*, merchant: Merchant, request: schemas.PaymentCreateRequest) -> Payment:
    try:
        # No savepoint of its own: inside the API's transaction a conflict
        # ends that transaction anyway (and is replayed if its key was used).
        with transaction.atomic(savepoint=False):
            payment = Payment.objects.create(
                merchant=merchant,
                reference=request.reference,
                amount=request.amount,
                return_url=request.return_url,
                due_at=request.due_at,
                language=request.language,
            )
            _event(payment, "payment.created", amount=payment.amount)
    except IntegrityError as exc:
        raise ReferenceInUse() from exc
    return payment


def payment_created_answer(payment: Payment, raw_token: str | None) -> tuple[int, dict[str, Any]]:
    """The merchant API's answer to a create: 201 and the contract's Payment,
    with the link to the payment page when there is one."""
    next_url = checkout_url(raw_token) if raw_token else None
    return 201, payment_to_contract(payment, next_url=next_url).model_dump(mode="json")


def payment_create_with_checkout(
    *,
    merchant: Merchant,
    request: schemas.PaymentCreateRequest,
    claim: IdempotencyClaim | None = None,
) -> tuple[Payment, str | None, tuple[int, dict[str, Any]]]:
    """``payment_create``, then a checkout link unless the due date has already
    passed (nothing to pay: the expiry sweep ends the payment and notifies);
    returns the payment, the link's raw token and the API's answer.

    The merchant API's hottest write. On PostgreSQL the payment, its
    ``payment.created`` event, the link and — given ``claim`` — the answer
    stored under the Idempotency-Key are one ``INSERT … RETURNING`` with
    data-modifying CTEs: one round trip, and none of the ORM's per-query
    compilation, which cost more CPU than the database's own work
    (docs/benchmarks.md). The rows and their values are the same as the
    ``create()``s and ``claim.write`` make, and the same constraint refuses a
    second live payment for the reference (``ReferenceInUse``)."""
    payment = Payment(
        merchant=merchant,
        reference=request.reference,
        amount=request.amount,
        return_url=request.return_url,
        due_at=request.due_at,
        language=request.language,
    )
    if connection.vendor != "postgresql":
        payment = payment_create(merchant=merchant, request=request)
        raw = None if payment_past_due(payment) else checkout_token_create(payment=payment)[0]
        return payment, raw, payment_created_answer(payment, raw)
    new_id = Sql('(SELECT "id" FROM "new_payment")')
    parts = [insert_parts(payment)]  # sets created_at and updated_at, as save() would
    event = PaymentEvent(payment=payment, type="payment.created", data={"amount": payment.amount})
    parts.append(insert_parts(event, computed={"payment_id": new_id}))
    raw_token: str | None = None
    if not payment_past_due(payment):
        raw_token, token = _checkout_token_new(payment)
        parts.append(insert_parts(token, computed={"payment_id": new_id}))
    answer = payment_created_answer(payment, raw_token)
    first, *rest = [part.statement() for part in parts]
    params = [param for part in parts for param in part.params]
    claimed = "NULL"
    if claim is not None:
        claim_sql, claim_params = claim.statement(status=answer[0], body=answer[1])
        rest.append(claim_sql)
        params += claim_params
        claimed = f'(SELECT count(*) FROM "new_{len(rest) - 1}")'  # noqa: S608 - our CTE
    sql = (
        f'WITH "new_payment" AS ({first} RETURNING "id") '  # noqa: S608 - our own columns
        + "".join(f', "new_{n}" AS ({statement})' for n, statement in enumerate(rest))
        + f' SELECT "id", {claimed} FROM "new_payment"'  # noqa: S608 - our own CTEs
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError as exc:
        raise ReferenceInUse() from exc
    if row is None:  # the payment's INSERT returns its row or raises
        raise RuntimeError("the payment's INSERT returned no row")
    if claim is not None:
        claim.claimed = bool(row[1])
    payment.pk = row[0]
    payment._state.adding = False
    payment._state.db = connection.alias
    return payment, raw_token, answer


def payment_past_due(payment: Payment) -> bool:
    """Past its due date but not yet expired by the sweep: no attempt may start."""
    return payment.due_at is not None and payment.due_at <= timezone.now()


def _check_payable(payment: Payment) -> None:
    if payment.status not in PAYABLE_STATUSES:
        raise PaymentNotPayable()
    if payment_past_due(payment):
        raise PaymentPastDue()


def _checkout_token_new(payment: Payment) -> tuple[str, CheckoutToken]:
    """A new link for ``payment`` (not saved): the raw token and its row."""
    raw = secrets.token_urlsafe(32)
    token = CheckoutToken(
        payment=payment,
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(seconds=settings.KESSAI_CHECKOUT_LINK_SECONDS),
    )
    return raw, token


def checkout_token_create(*, payment: Payment) -> tuple[str, CheckoutToken]:
    _check_payable(payment)
    raw, token = _checkout_token_new(payment)
    token.save(force_insert=True)
    return raw, token


def checkout_created_answer(
    raw_token: str, token: CheckoutToken, *, language: str | None = None
) -> tuple[int, dict[str, Any]]:
    """The merchant API's answer to a new checkout link: 201 and the link."""
    link = schemas.CheckoutLink(
        url=checkout_url(raw_token, language=language), expires_at=token.expires_at
    )
    return 201, link.model_dump(mode="json")


def checkout_token_create_for(
    *,
    merchant: Merchant,
    public_id: str,
    language: str | None = None,
    claim: IdempotencyClaim | None = None,
) -> tuple[int, dict[str, Any]]:
    """A new link for the merchant's payment ``public_id``; the API's answer.

    One statement: the row is inserted only if the payment is the merchant's
    and payable now (``INSERT … SELECT … RETURNING``), and — given ``claim`` —
    the answer is stored under the Idempotency-Key only if it was. Otherwise
    the payment is read to say why (not found, not payable, past due)."""
    raw, token = _checkout_token_new(Payment(merchant=merchant))
    answer = checkout_created_answer(raw, token, language=language)
    quote = connection.ops.quote_name
    now = timezone.now()
    payment_id = Sql(f"{quote('kessai_payment')}.{quote('id')}")
    parts = insert_parts(token, computed={"payment_id": payment_id})
    params = list(parts.params)
    insert = (
        f"INSERT INTO {parts.table} ({parts.columns}) SELECT {parts.placeholders} "  # noqa: S608
        f"FROM {quote('kessai_payment')} WHERE {quote('merchant_id')} = %s "
        f"AND {quote('public_id')} = %s AND {quote('status')} IN (%s, %s) "
        f"AND ({quote('due_at')} IS NULL OR {quote('due_at')} > %s) RETURNING {quote('id')}"
    )
    due_field = Payment._meta.get_field("due_at")
    payable = [str(status.value) for status in PAYABLE_STATUSES]
    params += [merchant.pk, public_id, *payable, due_field.get_db_prep_value(now, connection)]
    sql, folded = insert, False
    if claim is not None and connection.vendor == "postgresql":
        claim_sql, claim_params = claim.statement(
            status=answer[0], body=answer[1], only_if='SELECT 1 FROM "new_token"'
        )
        sql = (
            f'WITH "new_token" AS ({insert}), "claim" AS ({claim_sql}) '  # noqa: S608
            'SELECT "id", (SELECT count(*) FROM "claim") FROM "new_token"'
        )
        params += claim_params
        folded = True
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        # Rare: say why, or make the link if the payment became payable since
        # (the record is then written after, by ``idempotent``).
        from .selectors import payment_get

        payment = payment_get(merchant=merchant, public_id=public_id)
        raw, token = checkout_token_create(payment=payment)
        return checkout_created_answer(raw, token, language=language)
    if claim is not None and folded:
        claim.claimed = bool(row[1])
    return answer


def checkout_url(raw_token: str, *, language: str | None = None) -> str:
    """The hosted page's link; ``?lang=`` when the merchant names the citizen's
    language, which the page then keeps for the visit."""
    url = f"{settings.KESSAI_PUBLIC_URL.rstrip('/')}/checkout/{raw_token}/"
    return f"{url}?lang={language}" if language else url


def checkout_token_redeem(*, raw_token: str) -> Payment:
    """Use a checkout link once; return its payment."""
    token_hash = hashlib.sha256(raw_token.encode()).hexdigest()
    now = timezone.now()
    # Two statements, no transaction: the conditional UPDATE alone decides
    # which request uses the link.
    token = (
        CheckoutToken.objects.select_related("payment__merchant")
        .filter(token_hash=token_hash, used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not (
        CheckoutToken.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=now)
    ):
        raise CheckoutLinkInvalid()
    return token.payment


def _transition(
    payment: Payment,
    *,
    to: PaymentStatus,
    allowed_from: list[PaymentStatus],
    locked: bool = False,
    **fields: Any,
) -> bool:
    """Conditional UPDATE: move ``payment`` only if it is still in ``allowed_from``.

    ``locked``: the caller holds the row lock (``select_for_update``), so the
    instance is the row and the new values are set on it without reading the
    row back (one query fewer on the hot path)."""
    values = {"status": to, "updated_at": timezone.now(), **fields}
    changed = Payment.objects.filter(pk=payment.pk, status__in=allowed_from).update(**values)
    if changed:
        if locked and not any(hasattr(v, "resolve_expression") for v in values.values()):
            for name, value in values.items():
                setattr(payment, name, value)
        else:
            payment.refresh_from_db()
    return bool(changed)


def notification_enqueue(
    *, payment: Payment, event_type: EventType, refund: Refund | None = None
) -> Notification:
    """Record the event for the merchant and enqueue its delivery (same transaction)."""
    from .tasks import deliver_notification

    event_id = "evt_" + secrets.token_hex(12)
    event = schemas.Event(
        id=event_id,
        type=event_type,
        created=timezone.now(),
        data=schemas.EventData(
            payment=payment_to_contract(payment),
            refund=refund_to_contract(refund) if refund else None,
        ),
    )
    notification = Notification.objects.create(
        event_id=event_id,
        merchant=payment.merchant,
        payment=payment,
        type=event_type,
        body=event.model_dump_json(),
        next_attempt_at=timezone.now(),
    )
    deliver_notification.enqueue(notification_id=notification.pk, request_id=current_request_id())
    return notification


def _attempt_begin(
    *, payment: Payment, method: PaymentMethod, card_brand: str = "", card_last4: str = ""
) -> Attempt:
    with transaction.atomic():
        # The row lock and "is an attempt open?" in one statement: the lock
        # is taken on the payment row, and the subquery is read under it.
        locked = (
            Payment.objects.select_for_update()
            .annotate(
                attempt_open=Exists(
                    Attempt.objects.filter(payment=OuterRef("pk"), status__in=OPEN_ATTEMPT_STATUSES)
                )
            )
            .get(pk=payment.pk)
        )
        # Every method starts here, so the due date is checked for all of them.
        _check_payable(locked)
        if locked.attempt_open:
            raise AttemptInProgress()
        attempt = Attempt.objects.create(
            payment=locked, method=method, card_brand=card_brand, card_last4=card_last4
        )
        _transition(
            locked, to=PaymentStatus.STARTED, allowed_from=[PaymentStatus.CREATED], locked=True
        )
        _event(locked, "attempt.started", attempt=attempt.pk, method=method.value)
        return attempt


def attempt_key(attempt: Attempt) -> str:
    return f"att_{attempt.payment.public_id}_{attempt.pk}"


def attempt_finish(*, attempt: Attempt, result: ProviderResult) -> Attempt:
    """Record a provider's answer. Safe to call twice with the same answer."""
    if result.requires_action:
        return attempt_require_action(attempt=attempt, result=result)
    with transaction.atomic():
        new_status = Attempt.Status.SUCCEEDED if result.succeeded else Attempt.Status.DECLINED
        outcome = {
            "status": new_status,
            "decline_code": result.decline_code,
            "provider_reference": result.provider_reference or attempt.provider_reference,
            "card_brand": result.card_brand or attempt.card_brand,
            "card_last4": result.card_last4 or attempt.card_last4,
            "eci": result.eci,
            "three_ds": result.three_ds or attempt.three_ds,
            "finished_at": timezone.now(),
        }
        changed = Attempt.objects.filter(pk=attempt.pk, status__in=OPEN_ATTEMPT_STATUSES).update(
            **outcome
        )
        if not changed:  # answered already: return what was recorded
            attempt.refresh_from_db()
            return attempt
        for name, value in outcome.items():  # this UPDATE decided the row
            setattr(attempt, name, value)
        payment = (
            Payment.objects.select_for_update()
            .select_related("merchant")
            .get(pk=attempt.payment_id)
        )
        if result.succeeded:
            paid_at = timezone.now()
            moved = _transition(
                payment,
                to=PaymentStatus.SUCCEEDED,
                allowed_from=PAYABLE_STATUSES,
                locked=True,
                method=attempt.method,
                paid_at=paid_at,
            )
            if moved:
                _event(payment, "payment.succeeded", attempt=attempt.pk, method=attempt.method)
                ledger_add(
                    merchant_id=payment.merchant_id,
                    method=attempt.method,
                    at=paid_at,
                    succeeded_amount=payment.amount,
                )
                notification_enqueue(payment=payment, event_type=EventType.PAYMENT_SUCCEEDED)
            else:
                # Money was taken for a payment that had already ended (cancelled,
                # expired, or paid by another attempt): it must not stand. The
                # void is queued in this transaction, so it cannot be forgotten.
                from .tasks import void_attempt

                _event(payment, "attempt.succeeded_after_final", attempt=attempt.pk)
                void_attempt.enqueue(attempt_id=attempt.pk)
                logger.error(
                    "attempt %s succeeded on final payment %s", attempt.pk, payment.public_id
                )
        else:
            _event(payment, "attempt.declined", attempt=attempt.pk, code=result.decline_code)
            notification_enqueue(payment=payment, event_type=EventType.PAYMENT_ATTEMPT_FAILED)
        return attempt


# How long the citizen has for a challenge or an app approval before the janitor
# asks the provider (which ends its side of it by then).
ACTION_WINDOW = timedelta(minutes=10)


def attempt_require_action(*, attempt: Attempt, result: ProviderResult) -> Attempt:
    """The provider waits for the citizen (3-DS challenge, PayPay app)."""
    with transaction.atomic():
        changed = Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.PENDING).update(
            status=Attempt.Status.REQUIRES_ACTION,
            provider_reference=result.provider_reference,
            card_brand=result.card_brand or attempt.card_brand,
            card_last4=result.card_last4 or attempt.card_last4,
            three_ds=result.three_ds,
            action_url=result.action_url,
            action_deeplink=result.action_deeplink,
            action_expires_at=timezone.now() + ACTION_WINDOW,
        )
        attempt.refresh_from_db()
        if changed:
            _event(
                attempt.payment,
                "attempt.requires_action",
                attempt=attempt.pk,
                method=attempt.method,
                three_ds=result.three_ds,
            )
    return attempt


def attempt_open(*, payment: Payment) -> Attempt | None:
    """The attempt still waiting for the citizen or the provider, if any."""
    return payment.attempts.filter(status__in=OPEN_ATTEMPT_STATUSES).order_by("-id").first()


def attempt_refresh(*, attempt: Attempt) -> Attempt:
    """Ask the provider now (the citizen is back from the issuer or the app)."""
    if attempt.status not in OPEN_ATTEMPT_STATUSES:
        return attempt
    provider = get_registry().get(attempt.method)
    try:
        result = provider.inquire(attempt_key=attempt_key(attempt))
    except ProviderUnavailable:
        return attempt
    if result is None or result.requires_action:
        return attempt
    return attempt_finish(attempt=attempt, result=result)


NOT_REACHED = "not_reached"


def _attempt_call(attempt: Attempt, call: Callable[[], ProviderResult]) -> Attempt:
    """Send an attempt to its provider and record what that means.

    A connection that never opened sent nothing: the attempt fails at once
    (``not_reached``) and the citizen can try again. Only an answer lost after
    the request left leaves it ``unknown`` for the janitor's inquiry.
    """
    try:
        result = call()
    except ProviderNotReached:
        with transaction.atomic():
            failed = Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.PENDING).update(
                status=Attempt.Status.FAILED, decline_code=NOT_REACHED, finished_at=timezone.now()
            )
            if failed:
                _event(attempt.payment, "attempt.failed", attempt=attempt.pk, code=NOT_REACHED)
    except ProviderUnavailable:
        Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.PENDING).update(
            status=Attempt.Status.UNKNOWN
        )
    else:
        return attempt_finish(attempt=attempt, result=result)
    attempt.refresh_from_db()
    return attempt


@sensitive_variables("card")
def card_payment_pay(*, payment: Payment, card: CardDetails, return_url: str = "") -> Attempt:
    """Authorize and capture by card. The card exists only in memory here.

    With EMV 3-D Secure the attempt may come back ``requires_action``: the
    citizen answers the issuer's challenge at ``attempt.action_url``, which
    returns the browser to ``return_url``; ``attempt_refresh`` then settles it.
    """
    attempt = _attempt_begin(
        payment=payment, method=PaymentMethod.CARD, card_brand=card.brand, card_last4=card.last4
    )
    provider = get_registry().get(PaymentMethod.CARD)
    return _attempt_call(
        attempt,
        lambda: provider.authorize(  # type: ignore[attr-defined]
            attempt_key=attempt_key(attempt),
            amount=payment.amount,
            card=card,
            return_url=return_url,
            # Known here: the provider need not look it up by the attempt.
            merchant=payment.merchant,
        ),
    )


def paypay_payment_start(*, payment: Payment, return_url: str) -> Attempt:
    """Create a PayPay dynamic QR code for the payment (a new attempt).

    The merchantPaymentId is the attempt key, so an inquiry can always find
    it. Nothing but the amount goes to PayPay: no order description.
    """
    attempt = _attempt_begin(payment=payment, method=PaymentMethod.PAYPAY)
    provider = get_registry().get(PaymentMethod.PAYPAY)
    return _attempt_call(
        attempt,
        lambda: provider.start(  # type: ignore[attr-defined]
            attempt_key=attempt_key(attempt), amount=payment.amount, return_url=return_url
        ),
    )


@sensitive_variables("token", "decrypted")
def applepay_payment_pay(*, payment: Payment, token: dict[str, Any]) -> Attempt:
    """Pay with an Apple Pay token: verify and decrypt it, refuse a replayed
    transactionId or a token for another amount, then authorize through the
    acquirer with the device account number, cryptogram and ECI.

    Raises ``TokenError`` (nothing recorded but the transactionId) before
    any attempt exists. The device account number lives only in memory.
    """
    from madoguchi.kessai.providers.applepay.token import TokenError

    provider = get_registry().get(PaymentMethod.APPLE_PAY)
    decrypted = provider.decrypt(token=token)  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            ApplePayTransaction.objects.create(transaction_id=decrypted.transaction_id)
    except IntegrityError as exc:
        raise TokenError("replayed") from exc
    if decrypted.amount != payment.amount or decrypted.currency_code != "392":
        raise TokenError("amount_mismatch")
    attempt = _attempt_begin(
        payment=payment,
        method=PaymentMethod.APPLE_PAY,
        card_brand=detect_brand(decrypted.dpan) or "",
        card_last4=decrypted.last4,
    )
    return _attempt_call(
        attempt,
        lambda: provider.authorize(  # type: ignore[attr-defined]
            attempt_key=attempt_key(attempt), payment=decrypted
        ),
    )


def attempt_abandon(*, attempt: Attempt) -> Attempt:
    """The citizen gives up waiting (chooses another method): make sure the
    provider can no longer complete it, then record what it says."""
    if attempt.status != Attempt.Status.REQUIRES_ACTION:
        return attempt
    provider = get_registry().get(attempt.method)
    try:
        provider.cancel_action(attempt_key=attempt_key(attempt))
    except ProviderUnavailable:
        return attempt
    return attempt_refresh(attempt=attempt)


def attempt_for_provider_key(*, key: str) -> Attempt | None:
    """The attempt a provider refers to by our key (``att_<payment>_<pk>``)."""
    _, _, pk = key.rpartition("_")
    if not pk.isdigit():
        return None
    attempt = Attempt.objects.select_related("payment").filter(pk=int(pk)).first()
    if attempt is None or attempt_key(attempt) != key:
        return None
    return attempt


def attempts_settle_unknown() -> int:
    """Janitor: ask the provider about attempts whose outcome we never learnt."""
    now = timezone.now()
    stale = Attempt.objects.select_related("payment").filter(
        Q(
            status__in=[Attempt.Status.PENDING, Attempt.Status.UNKNOWN],
            created_at__lt=now - ATTEMPT_STALE_AFTER,
        )
        # Challenges and app approvals: once the window has passed, the
        # provider has ended its side and answers with the final outcome.
        | Q(
            status=Attempt.Status.REQUIRES_ACTION,
            action_expires_at__lt=now - ATTEMPT_STALE_AFTER,
        )
    )
    return sum(attempt_settle(attempt=attempt) for attempt in stale[:100])


def attempt_settle(*, attempt: Attempt) -> bool:
    """Ask the provider about one attempt whose outcome is open and record its
    answer (the janitor's step, also an administrator's "ask now"). True if
    the attempt is settled now; False when the provider cannot say yet."""
    provider = get_registry().get(attempt.method)
    try:
        result = provider.inquire(attempt_key=attempt_key(attempt))
    except ProviderUnavailable:
        return False
    if result is not None and result.requires_action:
        if attempt.status != Attempt.Status.REQUIRES_ACTION:
            return False
        # The window has passed (a PayPay code past its expiry still reads
        # CREATED): end it at the provider, then read the final state.
        try:
            provider.cancel_action(attempt_key=attempt_key(attempt))
            result = provider.inquire(attempt_key=attempt_key(attempt))
        except ProviderUnavailable:
            return False
        if result is not None and result.requires_action:
            return False
    if result is None:
        # The provider never received it: nothing was charged.
        result = ProviderResult(succeeded=False, decline_code="not_received")
    attempt_finish(attempt=attempt, result=result)
    return True


def payments_expire_due() -> int:
    """Expire unpaid payments past their due date."""
    expired = 0
    due = Payment.objects.filter(status__in=PAYABLE_STATUSES, due_at__lt=timezone.now())
    for payment_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            # The row lock orders expiry against an attempt starting (which
            # takes the same lock), so no attempt can begin on an expired payment.
            payment = (
                Payment.objects.select_for_update().select_related("merchant").get(pk=payment_id)
            )
            if payment.attempts.filter(status__in=OPEN_ATTEMPT_STATUSES).exists():
                continue  # let the janitor (or the citizen) settle it first
            if _transition(payment, to=PaymentStatus.EXPIRED, allowed_from=PAYABLE_STATUSES):
                _event(payment, "payment.expired")
                notification_enqueue(payment=payment, event_type=EventType.PAYMENT_EXPIRED)
                expired += 1
    return expired


def checkout_tokens_prune() -> int:
    """Delete checkout links that expired more than a day ago (they are useless)."""
    deleted, _ = CheckoutToken.objects.filter(
        expires_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted


# --- cancel ------------------------------------------------------------------


def payment_cancel(*, payment: Payment) -> Payment:
    """Cancel a payment nobody has paid. Idempotent: cancelling twice is fine.

    Refused while an attempt is open: its money might still move, and the row
    lock makes "attempt starts" and "payment cancelled" strictly ordered.
    """
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("merchant").get(pk=payment.pk)
        if locked.status == PaymentStatus.CANCELLED:
            return locked
        if locked.status not in PAYABLE_STATUSES:
            raise PaymentNotCancellable()
        if locked.attempts.filter(status__in=OPEN_ATTEMPT_STATUSES).exists():
            raise AttemptInProgress()
        _transition(locked, to=PaymentStatus.CANCELLED, allowed_from=PAYABLE_STATUSES)
        _event(locked, "payment.cancelled")
        # Links already handed out stop working at once.
        CheckoutToken.objects.filter(payment=locked, used_at__isnull=True).update(
            expires_at=timezone.now()
        )
        notification_enqueue(payment=locked, event_type=EventType.PAYMENT_CANCELLED)
        return locked


# --- refunds -----------------------------------------------------------------

REFUND_STALE_AFTER = timedelta(minutes=2)


def refund_create(
    *,
    payment: Payment,
    amount: int,
    expected_refundable_amount: int,
    origin: str = "api",
    written_request: str = "",
) -> Refund:
    """Refund part or all of a succeeded payment.

    The amount is reserved (``refund_pending_amount``) under the payment's row
    lock together with the precondition check; the caller then sends it with
    ``refund_submit`` *after* commit (never holding the lock during the
    provider call), idempotent by the refund's id. Two refunds racing with the
    same precondition: the second sees the reservation and gets 409.
    """
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
            raise PaymentNotRefundable()
        refundable = locked.refundable_amount
        if expected_refundable_amount != refundable:
            raise RefundAmountMismatch(
                f"expected_refundable_amount is {expected_refundable_amount}, "
                f"but {refundable} can be refunded now."
            )
        if amount > refundable:
            raise RefundAmountUnavailable(f"At most {refundable} can be refunded.")
        attempt = locked.attempts.filter(status=Attempt.Status.SUCCEEDED).order_by("-id").first()
        if attempt is None:  # pragma: no cover - a succeeded payment has its attempt
            raise PaymentNotRefundable()
        refund = Refund.objects.create(
            payment=locked,
            attempt=attempt,
            amount=amount,
            origin=origin,
            written_request=written_request,
        )
        Payment.objects.filter(pk=locked.pk).update(
            refund_pending_amount=locked.refund_pending_amount + amount,
            updated_at=timezone.now(),
        )
        _event(locked, "refund.requested", refund=refund.public_id, amount=amount, origin=origin)
    return refund


def refund_key(refund: Refund) -> str:
    return refund.public_id


def refund_submit(*, refund: Refund) -> Refund:
    """Send a pending refund to the provider (again); safe to repeat."""
    if refund.status != Refund.Status.PENDING:
        return refund
    attempt = refund.attempt
    provider = get_registry().get(attempt.method)
    try:
        result = provider.refund(
            attempt_key=attempt_key(attempt),
            provider_reference=attempt.provider_reference,
            refund_key=refund_key(refund),
            amount=refund.amount,
        )
    except ProviderUnavailable:
        # Left pending, even when nothing was sent (ProviderNotReached): unlike
        # an attempt, nobody waits on it, and the janitor sends it once the
        # provider is back, so the merchant's refund happens without being
        # asked again. The reservation keeps anyone from refunding the same
        # money meanwhile.
        logger.warning("refund %s: provider unavailable", refund.public_id)
        refund.refresh_from_db()
        return refund
    return refund_finish(refund=refund, result=result)


def refund_finish(*, refund: Refund, result: RefundResult) -> Refund:
    """Record the provider's answer about a refund. Safe to call twice."""
    now = timezone.now()
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().select_related("merchant").get(pk=refund.payment_id)
        )
        new_status = Refund.Status.SUCCEEDED if result.succeeded else Refund.Status.FAILED
        changed = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
            status=new_status,
            failure_code=result.failure_code,
            provider_reference=result.provider_reference,
            succeeded_at=now if result.succeeded else None,
            finished_at=now,
        )
        refund.refresh_from_db()
        if not changed:
            return refund
        fields: dict[str, Any] = {
            "refund_pending_amount": payment.refund_pending_amount - refund.amount,
        }
        if not result.succeeded:
            Payment.objects.filter(pk=payment.pk).update(updated_at=now, **fields)
            _event(payment, "refund.failed", refund=refund.public_id, code=result.failure_code)
            return refund
        fields["refunded_amount"] = payment.refunded_amount + refund.amount
        if fields["refunded_amount"] == payment.amount:
            _transition(
                payment, to=PaymentStatus.REFUNDED, allowed_from=[PaymentStatus.SUCCEEDED], **fields
            )
        else:
            Payment.objects.filter(pk=payment.pk).update(updated_at=now, **fields)
            payment.refresh_from_db()
        _event(payment, "payment.refunded", refund=refund.public_id, amount=refund.amount)
        ledger_add(
            merchant_id=payment.merchant_id,
            method=payment.method,
            at=now,
            refunded_amount=refund.amount,
        )
        notification_enqueue(payment=payment, event_type=EventType.PAYMENT_REFUNDED, refund=refund)
        return refund


def refunds_settle_pending() -> int:
    """Janitor: ask about refunds whose answer was lost, or send them again."""
    cutoff = timezone.now() - REFUND_STALE_AFTER
    settled = 0
    stale = Refund.objects.select_related("attempt", "payment").filter(
        status=Refund.Status.PENDING, created_at__lt=cutoff
    )
    for refund in stale[:100]:
        provider = get_registry().get(refund.attempt.method)
        try:
            result = provider.inquire_refund(refund_key=refund_key(refund))
        except ProviderUnavailable:
            continue
        if result is None:
            refund = refund_submit(refund=refund)  # never arrived: send it (idempotent)
        else:
            refund = refund_finish(refund=refund, result=result)
        settled += refund.status != Refund.Status.PENDING
    return settled


# --- voids -------------------------------------------------------------------


def attempt_void(*, attempt: Attempt) -> None:
    """Reverse a charge that succeeded on an ended payment. Raises
    ProviderUnavailable for the task to retry; voiding twice is harmless."""
    provider = get_registry().get(attempt.method)
    provider.void(attempt_key=attempt_key(attempt), provider_reference=attempt.provider_reference)
    with transaction.atomic():
        voided = attempt.payment.events.filter(type="attempt.voided", data__attempt=attempt.pk)
        if not voided.exists():
            _event(attempt.payment, "attempt.voided", attempt=attempt.pk)


# --- notifications -----------------------------------------------------------


def notification_resend(*, notification: Notification) -> Notification:
    """Deliver an event again now, whatever happened before (an operator's
    manual resend). Same event id and body: the receiver deduplicates."""
    from .tasks import deliver_notification

    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.PENDING, next_attempt_at=timezone.now()
        )
        deliver_notification.enqueue(
            notification_id=notification.pk, request_id=current_request_id()
        )
    notification.refresh_from_db()
    return notification
