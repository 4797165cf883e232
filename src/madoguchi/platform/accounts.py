"""Accounts for staff (Shinsei) and administrators (Kessai): the generic part.

Each service has its own concrete account model; both share this base, the
Argon2id hashing and the session binding. Django's ``contrib.auth`` is not
used because the two services must never share a user table.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from .sessions.store import ACCOUNT_KEY, revoke_sessions


class AbstractAccount(models.Model):
    login_id = models.CharField("ログインID", max_length=64, unique=True)
    display_name = models.CharField("氏名", max_length=100)
    password = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(default=timezone.now)
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
        self.password = make_password(raw_password)
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password: str) -> bool:
        return check_password(raw_password, self.password)


class AccountModel(Protocol):
    objects: Any
    DoesNotExist: type[Exception]


A = TypeVar("A", bound=AbstractAccount)


def session_login(request: HttpRequest, account: AbstractAccount) -> None:
    # A fresh session key on login defeats session fixation.
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.account_key
    account.last_login_at = timezone.now()
    type(account)._default_manager.filter(pk=account.pk).update(last_login_at=account.last_login_at)


def session_logout(request: HttpRequest) -> None:
    request.session.flush()


def session_account[A: AbstractAccount](request: HttpRequest, model: type[A]) -> A | None:
    key = request.session.get(ACCOUNT_KEY, "")
    kind, _, pk = key.partition(":")
    if kind != model.account_kind or not pk.isdigit():
        return None
    account = model._default_manager.filter(pk=int(pk), is_active=True).first()
    return account


def end_all_sessions(account: AbstractAccount) -> int:
    return revoke_sessions(account.account_key)


def login_required(
    model: type[AbstractAccount], login_url_name: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: sets ``request.account`` or redirects to the login page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            account = session_account(request, model)
            if account is None:
                return HttpResponseRedirect(f"{reverse(login_url_name)}?next={request.path}")
            request.account = account  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
