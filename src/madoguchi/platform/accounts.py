"""Accounts for staff (Shinsei) and administrators (Kessai): the generic part.

Each service has its own user model (its ``AUTH_USER_MODEL``) on Django's
``AbstractBaseUser`` and ``PermissionsMixin``; both share this base, the
password history and expiry, the lockout and the login state machine. The
second factor is django-otp's (``otp.py``): each service's account owns a
TOTP device and a recovery-code device (``totp_devices``, ``recovery_devices``).
Sessions are Django's: ``django.contrib.auth.login`` (a new session key),
``get_user`` (which checks the session auth hash, so a password change or a
transfer ends every other session) and ``logout``.

Login is a small state machine kept in the session: after the password, the
account may still owe a TOTP code, a password change (first login, expiry,
transfer) or the set-up of its TOTP; only when nothing is owed does the
session carry the account (``ACCOUNT_KEY``) and ``login_required`` let it in.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import metrics
from .otp import DIGITS as TOTP_DIGITS
from .otp import recovery_code_hash, recovery_codes_new, totp_check
from .passwords import HISTORY, max_age, password_problems
from .sessions.store import ACCOUNT_KEY, PENDING_KEY, revoke_sessions
from .throttle import (
    throttle_blocked,
    throttle_clear,
    throttle_hit,
    throttle_hit_all,
    throttle_release,
)

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

    from .otp import AbstractRecoveryDevice, AbstractTOTPDevice

# Django's own session keys of a logged-in user.
AUTH_KEYS = (auth.SESSION_KEY, auth.BACKEND_SESSION_KEY, auth.HASH_SESSION_KEY)
LAST_SEEN = "_last_seen"
# The time a request was last seen is written back to the session only when
# it is this old: a session write on every staff page (one UPDATE each) is
# saved, and the idle timeout then ends a session at most this much early —
# the safe side.
LAST_SEEN_GRANULARITY = 60
PENDING_TOTP_OK = "_pending_totp_ok"
# When the password of a login under way was accepted: the rest (second
# factor, password change) must follow within ``pending_timeout()``.
PENDING_SINCE = "_pending_since"

LOCKOUT_FAILURES = 10
LOCKOUT = timedelta(minutes=30)


def idle_timeout() -> int:
    return int(getattr(settings, "MADOGUCHI_IDLE_TIMEOUT_SECONDS", 15 * 60))


def pending_timeout() -> int:
    return int(getattr(settings, "MADOGUCHI_PENDING_LOGIN_SECONDS", 10 * 60))


class AccountManager[A: "AbstractAccount"](BaseUserManager[A]):
    def create_user(self, login_id: str, password: str | None = None, **fields: Any) -> A:
        account = self.model(login_id=login_id, **fields)
        account.set_password(password)
        account.save(using=self._db)
        return account


class AbstractAccount(AbstractBaseUser, PermissionsMixin):
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
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "login_id"
    REQUIRED_FIELDS = ["display_name"]

    # Distinguishes the services' accounts inside session rows, e.g. "staff".
    account_kind: str = "account"
    # Dotted path of the service's authentication backend (one per service).
    auth_backend: str = ""

    if TYPE_CHECKING:
        # Each service's account has a role (its group, platform/roles.py).
        role: str
        # Declared by each service's devices (``user`` with these related names).
        totp_devices: RelatedManager[AbstractTOTPDevice]
        recovery_devices: RelatedManager[AbstractRecoveryDevice]

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.login_id

    @property
    def account_key(self) -> str:
        return f"{self.account_kind}:{self.pk}"

    def set_password(self, raw_password: str | None) -> None:
        """Set without the policy (seeding, tests); people use ``account_change_password``."""
        if self.password:
            self.password_history = [self.password, *self.password_history][: HISTORY - 1]
        self.password = make_password(raw_password)
        self._password = raw_password
        self.password_changed_at = timezone.now()

    def session_binding(self) -> str:
        """What else a session depends on besides the password (the services
        add department and role, so that a transfer ends every session)."""
        return ""

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's session auth hash covers the password hash only; ours also
        # covers ``session_binding()``.
        return salted_hmac(
            "madoguchi.platform.accounts.AbstractAccount.session_auth_hash",
            f"{self.password}|{self.session_binding()}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def password_expired(self) -> bool:
        return self.password_changed_at + max_age() <= timezone.now()

    def password_change_due(self) -> bool:
        return self.must_change_password or self.password_expired()

    def totp_required(self) -> bool:
        """Whether this account must use a second factor; services override."""
        return True

    def totp_enrolled(self) -> bool:
        return self.totp_devices.filter(confirmed=True).exists()


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


def _id_throttle(kind: str, login_id: str) -> str:
    # By login ID, existing or not: unknown IDs lock the same way, so the
    # lockout does not tell which IDs exist.
    return f"login-id:{kind}:{login_id[:64]}"


def _address_throttle(namespace: str, address: str) -> str:
    return f"login-address:{namespace}:{address}"


def _account_locked(account: AbstractAccount | None, id_key: str) -> bool:
    """The account's lockout: the cache's block, or the lockout's audit
    record of the last LOCKOUT. The cache loses its blocks when it restarts
    without persistence (the Redis default); the audit log keeps the lockout,
    so a restart does not give an attacker ten more tries."""
    if throttle_blocked(id_key):
        return True
    if account is None:
        return False
    from .audit.models import AuditRecord

    since = datetime.fromtimestamp(time.time() - LOCKOUT.total_seconds(), tz=UTC)
    return AuditRecord.objects.filter(
        event="account.lockout", actor=account.account_key, occurred_at__gt=since
    ).exists()


def account_totp_reset(*, account: AbstractAccount, actor: str) -> int:
    """A lost authenticator (and recovery codes): an administrator clears the
    second factor; the owner sets up a new one at the next login. Every
    session ends. Returns the number of sessions ended."""
    with transaction.atomic():
        account.totp_devices.all().delete()
        account.recovery_devices.all().delete()
        ended = revoke_sessions(account.account_key)
        from .audit.services import audit_record

        audit_record(actor=actor, event="totp.reset", resource=account.account_key)
    return ended


def account_totp_confirm(
    *, account: AbstractAccount, key: str, code: str, request: HttpRequest | None = None
) -> list[str] | None:
    """Give the account a TOTP device with ``key`` if ``code`` proves the app
    has it; returns the new recovery codes (shown once), or None if the code
    is wrong."""
    step = totp_check(key, code)
    if step is None:
        return None
    codes = recovery_codes_new()
    with transaction.atomic():
        account.totp_devices.all().delete()
        account.recovery_devices.all().delete()
        account.totp_devices.create(name="authenticator", key=key, last_t=step, confirmed=True)
        recovery = account.recovery_devices.create(name="recovery codes", confirmed=True)
        recovery.token_set.bulk_create(
            [recovery.token_set.model(device=recovery, token=recovery_code_hash(c)) for c in codes]
        )
        _record(account.account_key, "totp.enrol", request)
    return codes


def account_totp_verify(
    *, account: AbstractAccount, code: str, request: HttpRequest | None = None
) -> bool:
    """A current TOTP code (each accepted once) or an unused recovery code,
    checked by the account's django-otp devices (each throttled)."""
    # Six digits go to the authenticator, anything else to the recovery codes
    # (ten characters): a slip of one kind does not throttle the other.
    is_totp = len("".join(code.split())) == TOTP_DIGITS
    devices = account.totp_devices if is_totp else account.recovery_devices
    with transaction.atomic():
        # Locked: two requests with the same code cannot both pass.
        device = devices.select_for_update().filter(confirmed=True).first()
        if device is None or not device.verify_token(code):
            return False
        if not is_totp:
            left = device.token_set.count()
            _record(account.account_key, "totp.recovery_code_used", request, left=left)
        return True


# --- sessions -------------------------------------------------------------


def session_login(request: HttpRequest, account: AbstractAccount) -> None:
    """The account is fully authenticated: Django's ``login`` binds the
    session to it under a new session key (no fixation)."""
    for key in (PENDING_KEY, PENDING_TOTP_OK, PENDING_SINCE, *AUTH_KEYS):
        request.session.pop(key, None)
    # (The type checker reads the combined test settings' AUTH_USER_MODEL.)
    auth.login(request, account, backend=account.auth_backend)  # type: ignore[arg-type]
    # The session row carries the account too (``revoke_sessions``).
    request.session[ACCOUNT_KEY] = account.account_key
    request.session[LAST_SEEN] = int(time.time())


def _account_from_key[A: AbstractAccount](key: str, model: type[A]) -> A | None:
    kind, _, pk = key.partition(":")
    if kind != model.account_kind or not pk.isdigit():
        return None
    return model._default_manager.filter(pk=int(pk), is_active=True).first()


def session_account[A: AbstractAccount](request: HttpRequest, model: type[A]) -> A | None:
    """The logged-in account, or None; ends a session idle for too long, and
    (Django's ``get_user``) one whose password or binding has changed."""
    if not request.session.get(ACCOUNT_KEY, ""):
        return None
    now = int(time.time())
    idle = now - int(request.session.get(LAST_SEEN, 0))
    if idle > idle_timeout():
        request.session.flush()
        return None
    account = auth.get_user(request)
    if not isinstance(account, model):
        return None
    if idle >= LAST_SEEN_GRANULARITY:
        request.session[LAST_SEEN] = now
    return account


def pending_account[A: AbstractAccount](request: HttpRequest, model: type[A]) -> A | None:
    """The account of a login under way; a half-finished login must start
    again from the password when left idle, and once ``pending_timeout()``
    has passed since the password was accepted, however busy it was."""
    key = request.session.get(PENDING_KEY, "")
    if not key:
        return None
    now = int(time.time())
    idle = now - int(request.session.get(LAST_SEEN, 0)) > idle_timeout()
    if idle or now - int(request.session.get(PENDING_SINCE, 0)) > pending_timeout():
        request.session.flush()
        return None
    request.session[LAST_SEEN] = now
    return _account_from_key(key, model)


def password_change_owed(
    request: HttpRequest, account: AbstractAccount, namespace: str
) -> HttpResponse:
    """Back to a half-done login whose next step is the password change (an
    expired or administrator-set password): nothing else opens until then."""
    for key in (ACCOUNT_KEY, *AUTH_KEYS):
        request.session.pop(key, None)
    request.session[PENDING_KEY] = account.account_key
    request.session[LAST_SEEN] = request.session[PENDING_SINCE] = int(time.time())
    request.session[PENDING_TOTP_OK] = True
    return HttpResponseRedirect(reverse(f"{namespace}:password_change"))


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
                return password_change_owed(request, account, namespace)
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
    if throttle_blocked(address_key) or _account_locked(account, id_key):
        metrics.observe_login_failure(namespace=namespace, lockout=False)
        _record(actor, "login", request, outcome="denied", reason="locked")
        return LoginOutcome(None, LOCKED, 429)
    # The attempt counts before the password is checked: concurrent attempts
    # each take their own place in the count (atomic increments), so exactly
    # LOCKOUT_FAILURES of them are checked, however many arrive at once.
    # Address first, then account; refused by either, it takes no place in
    # the other (see throttle_hit_all).
    within = throttle_hit_all(
        [address_key, id_key], limit=LOCKOUT_FAILURES, window=LOCKOUT, block_for=LOCKOUT
    )
    if not within:
        metrics.observe_login_failure(namespace=namespace, lockout=False)
        _record(actor, "login", request, outcome="denied", reason="locked")
        return LoginOutcome(None, LOCKED, 429)
    if account is None:
        make_password(password)  # the same work as a real check: no timing oracle
    elif account.check_password(password):
        throttle_clear(id_key)
        throttle_release(address_key, limit=LOCKOUT_FAILURES)
        # Audited as "login" once the second factor and any change are done.
        return LoginOutcome(account)
    _record(actor, "login", request, outcome="failure")
    locked = account is not None and throttle_blocked(id_key)
    metrics.observe_login_failure(namespace=namespace, lockout=locked)
    if locked:
        _record(actor, "account.lockout", request, outcome="denied")
    return LoginOutcome(None, BAD_CREDENTIALS, 401)


def second_factor_attempt(
    request: HttpRequest, *, account: AbstractAccount, code: str
) -> bool | None:
    """Check a TOTP or recovery code of a login under way. Wrong codes count
    toward the account's lockout with its wrong passwords (10 in 30 minutes,
    PCI DSS 8.3.4); None once it is locked, whatever the code."""
    id_key = _id_throttle(account.account_kind, account.login_id)
    if _account_locked(account, id_key) or not throttle_hit(
        id_key, limit=LOCKOUT_FAILURES, window=LOCKOUT, block_for=LOCKOUT
    ):
        _record(account.account_key, "login.totp", request, outcome="denied", reason="locked")
        return None
    if account_totp_verify(account=account, code=code, request=request):
        throttle_clear(id_key)
        return True
    _record(account.account_key, "login.totp", request, outcome="failure")
    if throttle_blocked(id_key):
        _record(account.account_key, "account.lockout", request, outcome="denied")
    return False


def login_next_step(request: HttpRequest, account: AbstractAccount, namespace: str) -> str:
    """Where the half-logged-in ``account`` goes next; completes the login
    (and audits it) when nothing is owed."""
    request.session[PENDING_KEY] = account.account_key
    request.session[LAST_SEEN] = int(time.time())
    request.session.setdefault(PENDING_SINCE, request.session[LAST_SEEN])
    totp_ok = bool(request.session.get(PENDING_TOTP_OK))
    enrolled = account.totp_enrolled()
    if enrolled and not totp_ok:
        return reverse(f"{namespace}:totp")
    if account.password_change_due():
        return reverse(f"{namespace}:password_change")
    if account.totp_required() and not enrolled:
        return reverse(f"{namespace}:totp_setup")
    session_login(request, account)
    _record(account.account_key, "login", request)
    return ""
