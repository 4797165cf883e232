"""Accounts for staff (Shinsei) and administrators (Kessai): the generic part.

Each service has its own concrete account model; both share this base, the
Argon2id hashing, the password policy, lockout, TOTP and the session binding.
Django's ``contrib.auth`` is not used because the two services must never
share a user table.

Login is a small state machine kept in the session: after the password, the
account may still owe a TOTP code, a password change (first login, expiry,
transfer) or the set-up of its TOTP; only when nothing is owed does the
session carry the account (``ACCOUNT_KEY``) and ``login_required`` let it in.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from . import metrics
from .passwords import HISTORY, max_age, password_problems
from .sessions.store import ACCOUNT_KEY, PENDING_KEY, revoke_sessions
from .throttle import throttle_blocked, throttle_clear, throttle_hit
from .totp import recovery_code_hash, recovery_codes_new, totp_match

LAST_SEEN = "_last_seen"
PENDING_TOTP_OK = "_pending_totp_ok"

LOCKOUT_FAILURES = 10
LOCKOUT = timedelta(minutes=30)


def idle_timeout() -> int:
    return int(getattr(settings, "MADOGUCHI_IDLE_TIMEOUT_SECONDS", 15 * 60))


class AbstractAccount(models.Model):
    login_id = models.CharField("ログインID", max_length=64, unique=True)
    display_name = models.CharField("氏名", max_length=100)
    password = models.CharField(max_length=200)
    # Hashes of the previous passwords, newest first (the policy refuses reuse).
    password_history = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(default=timezone.now)
    # Accounts made by an administrator start with a password someone else
    # knows: the owner must replace it at first login. Transfers set it again.
    must_change_password = models.BooleanField(default=True)
    # Base32 TOTP secret; empty until the owner has set up an authenticator.
    totp_secret = models.CharField(max_length=64, blank=True)
    # The last accepted TOTP step: a code is good once.
    totp_last_step = models.BigIntegerField(default=0)
    # SHA-256 of the unused recovery codes.
    recovery_codes = models.JSONField(default=list, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Distinguishes the services' accounts inside session rows, e.g. "staff".
    account_kind: str = "account"

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.login_id

    @property
    def account_key(self) -> str:
        return f"{self.account_kind}:{self.pk}"

    def set_password(self, raw_password: str) -> None:
        """Set without the policy (seeding, tests); people use ``account_change_password``."""
        if self.password:
            self.password_history = [self.password, *self.password_history][: HISTORY - 1]
        self.password = make_password(raw_password)
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password: str) -> bool:
        return check_password(raw_password, self.password)

    def password_expired(self) -> bool:
        return self.password_changed_at + max_age() <= timezone.now()

    def password_change_due(self) -> bool:
        return self.must_change_password or self.password_expired()

    def totp_required(self) -> bool:
        """Whether this account must use a second factor; services override."""
        return True


# --- services -------------------------------------------------------------


def _record(
    account_key: str,
    event: str,
    request: HttpRequest | None,
    outcome: str = "success",
    **detail: Any,
) -> None:
    from .audit.services import audit_record

    audit_record(actor=account_key, event=event, outcome=outcome, request=request, detail=detail)


def account_change_password(
    *, account: AbstractAccount, raw_password: str, request: HttpRequest | None = None
) -> list[str]:
    """Apply the policy and set the password; the problems if refused. Ends
    every session of the account (the caller starts a new one)."""
    problems = password_problems(raw_password, account=account)
    if problems:
        return problems
    with transaction.atomic():
        account.set_password(raw_password)
        account.must_change_password = False
        account.save(
            update_fields=[
                "password",
                "password_history",
                "password_changed_at",
                "must_change_password",
            ]
        )
        revoke_sessions(account.account_key)
        _record(account.account_key, "password.change", request)
    return []


def account_expire_password(
    *, account: AbstractAccount, actor: str, reason: str, disable: bool = False
) -> int:
    """Expire the password at once and end every session (異動, leave,
    suspected compromise). Returns the number of sessions ended."""
    with transaction.atomic():
        type(account)._default_manager.filter(pk=account.pk).update(
            must_change_password=True, **({"is_active": False} if disable else {})
        )
        account.must_change_password = True
        if disable:
            account.is_active = False
        ended = revoke_sessions(account.account_key)
        from .audit.services import audit_record

        audit_record(
            actor=actor,
            event="account.disable" if disable else "account.expire_password",
            resource=account.account_key,
            detail={"reason": reason, "sessions_ended": ended},
        )
    return ended


def account_unlock(*, account: AbstractAccount) -> None:
    throttle_clear(_id_throttle(account.account_kind, account.login_id))


def _id_throttle(kind: str, login_id: str) -> str:
    # By login ID, existing or not: unknown IDs lock the same way, so the
    # lockout does not tell which IDs exist.
    return f"login-id:{kind}:{login_id[:64]}"


def _address_throttle(namespace: str, address: str) -> str:
    return f"login-address:{namespace}:{address}"


def account_totp_reset(*, account: AbstractAccount, actor: str) -> int:
    """A lost authenticator (and recovery codes): an administrator clears the
    second factor; the owner sets up a new one at the next login. Every
    session ends. Returns the number of sessions ended."""
    with transaction.atomic():
        type(account)._default_manager.filter(pk=account.pk).update(
            totp_secret="", totp_last_step=0, recovery_codes=[]
        )
        account.totp_secret, account.totp_last_step, account.recovery_codes = "", 0, []
        ended = revoke_sessions(account.account_key)
        from .audit.services import audit_record

        audit_record(actor=actor, event="totp.reset", resource=account.account_key)
    return ended


def account_totp_confirm(
    *, account: AbstractAccount, secret: str, code: str, request: HttpRequest | None = None
) -> list[str] | None:
    """Store ``secret`` if ``code`` proves the app has it; returns the new
    recovery codes (shown once), or None if the code is wrong."""
    step = totp_match(secret, code, after_step=0)
    if step is None:
        return None
    codes = recovery_codes_new()
    account.totp_secret = secret
    account.totp_last_step = step
    account.recovery_codes = [recovery_code_hash(c) for c in codes]
    account.save(update_fields=["totp_secret", "totp_last_step", "recovery_codes"])
    _record(account.account_key, "totp.enrol", request)
    return codes


def account_totp_verify(
    *, account: AbstractAccount, code: str, request: HttpRequest | None = None
) -> bool:
    """A current TOTP code (each accepted once) or an unused recovery code."""
    model = type(account)._default_manager
    step = totp_match(account.totp_secret, code, after_step=account.totp_last_step)
    if step is not None:
        # Conditional: two requests with the same code cannot both pass.
        return bool(
            model.filter(pk=account.pk, totp_last_step__lt=step).update(totp_last_step=step)
        )
    hashed = recovery_code_hash(code)
    with transaction.atomic():
        locked = model.select_for_update().get(pk=account.pk)
        if hashed in locked.recovery_codes:
            locked.recovery_codes = [h for h in locked.recovery_codes if h != hashed]
            locked.save(update_fields=["recovery_codes"])
            _record(
                account.account_key,
                "totp.recovery_code_used",
                request,
                left=len(locked.recovery_codes),
            )
            return True
    return False


# --- sessions -------------------------------------------------------------


def session_login(request: HttpRequest, account: AbstractAccount) -> None:
    """The account is fully authenticated: bind the session to it."""
    # A fresh session key on login defeats session fixation.
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    request.session.pop(PENDING_TOTP_OK, None)
    request.session[ACCOUNT_KEY] = account.account_key
    request.session[LAST_SEEN] = int(time.time())
    account.last_login_at = timezone.now()
    type(account)._default_manager.filter(pk=account.pk).update(last_login_at=account.last_login_at)


def session_logout(request: HttpRequest) -> None:
    request.session.flush()


def _account_from_key[A: AbstractAccount](key: str, model: type[A]) -> A | None:
    kind, _, pk = key.partition(":")
    if kind != model.account_kind or not pk.isdigit():
        return None
    return model._default_manager.filter(pk=int(pk), is_active=True).first()


def session_account[A: AbstractAccount](request: HttpRequest, model: type[A]) -> A | None:
    """The logged-in account, or None; ends a session idle for too long."""
    key = request.session.get(ACCOUNT_KEY, "")
    if not key:
        return None
    now = int(time.time())
    if now - int(request.session.get(LAST_SEEN, 0)) > idle_timeout():
        request.session.flush()
        return None
    request.session[LAST_SEEN] = now
    return _account_from_key(key, model)


def pending_account[A: AbstractAccount](request: HttpRequest, model: type[A]) -> A | None:
    """The account of a login under way; a half-finished login left idle for
    the idle timeout must start again from the password."""
    key = request.session.get(PENDING_KEY, "")
    if not key:
        return None
    now = int(time.time())
    if now - int(request.session.get(LAST_SEEN, 0)) > idle_timeout():
        request.session.flush()
        return None
    request.session[LAST_SEEN] = now
    return _account_from_key(key, model)


def end_all_sessions(account: AbstractAccount) -> int:
    return revoke_sessions(account.account_key)


def login_required(
    model: type[AbstractAccount], login_url_name: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: sets ``request.account`` or redirects to the login page
    (or to the password change, once the password has expired)."""
    namespace = login_url_name.partition(":")[0]

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            account = session_account(request, model)
            if account is None:
                return HttpResponseRedirect(f"{reverse(login_url_name)}?next={request.path}")
            if account.password_change_due():
                request.session.pop(ACCOUNT_KEY, None)
                request.session[PENDING_KEY] = account.account_key
                request.session[LAST_SEEN] = int(time.time())
                request.session[PENDING_TOTP_OK] = True
                return HttpResponseRedirect(reverse(f"{namespace}:password_change"))
            request.account = account  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- the login state machine, shared by the staff and console views --------


class LoginOutcome:
    """What ``login_attempt`` decided: ``account`` if the password was right,
    else ``error`` and ``status``."""

    def __init__(self, account: AbstractAccount | None, error: str = "", status: int = 200):
        self.account, self.error, self.status = account, error, status


BAD_CREDENTIALS = "ログインIDまたはパスワードが正しくありません。"
LOCKED = "ログインに続けて失敗したため、しばらくログインできません。30分後にお試しください。"


def login_attempt(
    request: HttpRequest,
    *,
    model: type[AbstractAccount],
    namespace: str,
    login_id: str,
    password: str,
) -> LoginOutcome:
    """Check a password with lockout per account and per source address
    (10 failures: 30 minutes, PCI DSS 8.3.4) and audit the result."""
    from .network import client_address

    address_key = _address_throttle(namespace, client_address(request))
    id_key = _id_throttle(model.account_kind, login_id)
    account = model._default_manager.filter(login_id=login_id, is_active=True).first()
    # What was typed as an ID is not recorded when no account has it: people
    # type their password into the ID field.
    actor = account.account_key if account else f"{namespace}-login:unknown"
    if throttle_blocked(address_key) or throttle_blocked(id_key):
        metrics.observe_login_failure(namespace=namespace, lockout=False)
        _record(actor, "login", request, outcome="denied", reason="locked")
        return LoginOutcome(None, LOCKED, 429)
    if account is None:
        make_password(password)  # the same work as a real check: no timing oracle
    elif account.check_password(password):
        throttle_clear(id_key)
        # Audited as "login" once the second factor and any change are done.
        return LoginOutcome(account)
    _record(actor, "login", request, outcome="failure")
    throttle_hit(address_key, limit=LOCKOUT_FAILURES, window=LOCKOUT, block_for=LOCKOUT)
    throttle_hit(id_key, limit=LOCKOUT_FAILURES, window=LOCKOUT, block_for=LOCKOUT)
    locked = account is not None and throttle_blocked(id_key)
    metrics.observe_login_failure(namespace=namespace, lockout=locked)
    if locked:
        _record(actor, "account.lockout", request, outcome="denied")
    return LoginOutcome(None, BAD_CREDENTIALS, 401)


def login_next_step(request: HttpRequest, account: AbstractAccount, namespace: str) -> str:
    """Where the half-logged-in ``account`` goes next; completes the login
    (and audits it) when nothing is owed."""
    request.session[PENDING_KEY] = account.account_key
    request.session[LAST_SEEN] = int(time.time())
    totp_ok = bool(request.session.get(PENDING_TOTP_OK))
    if account.totp_secret and not totp_ok:
        return reverse(f"{namespace}:totp")
    if account.password_change_due():
        return reverse(f"{namespace}:password_change")
    if account.totp_required() and not account.totp_secret:
        return reverse(f"{namespace}:totp_setup")
    session_login(request, account)
    _record(account.account_key, "login", request)
    return ""
