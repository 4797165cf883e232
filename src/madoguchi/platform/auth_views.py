"""Login, logout, password change and TOTP pages, shared by Shinsei's staff
listener and Kessai's console; each service binds them to its account model
and templates (``shinsei/staff/views.py``, ``kessai/console/auth_views.py``)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from .accounts import (
    AUTH_KEYS,
    LOCKED,
    PENDING_SINCE,
    PENDING_TOTP_OK,
    AbstractAccount,
    account_change_password,
    account_totp_confirm,
    login_attempt,
    login_next_step,
    pending_account,
    second_factor_attempt,
    session_account,
)
from .audit.services import audit_record
from .otp import totp_key_base32, totp_new_key, totp_qr_data_uri, totp_uri

View = Callable[..., HttpResponse]
TOTP_SETUP_SECRET = "_totp_setup_secret"  # noqa: S105 - a session key name
NEXT = "_login_next"


@dataclass(frozen=True)
class AuthViews:
    model: type[AbstractAccount]
    namespace: str  # "staff" or "console"
    home: str  # URL name after login
    base_template: str
    login_template: str
    issuer: str  # shown in the authenticator app

    def _page(
        self, request: HttpRequest, template: str, context: dict[str, object], status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            f"platform/auth/{template}",
            {"base_template": self.base_template, "namespace": self.namespace, **context},
            status=status,
        )

    def _go_on(self, request: HttpRequest, account: AbstractAccount) -> HttpResponse:
        target = login_next_step(request, account, self.namespace)
        if target:
            return HttpResponseRedirect(target)
        next_url = request.session.pop(NEXT, "")
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
            return HttpResponseRedirect(next_url)
        return HttpResponseRedirect(reverse(self.home))

    def views(self) -> dict[str, View]:
        @never_cache
        @sensitive_post_parameters("password")
        def login(request: HttpRequest) -> HttpResponse:
            if request.method == "POST":
                outcome = login_attempt(
                    request,
                    model=self.model,
                    namespace=self.namespace,
                    login_id=request.POST.get("login_id", ""),
                    password=request.POST.get("password", ""),
                )
                if outcome.account is not None:
                    # A new session for the half-login too (no fixation).
                    request.session.cycle_key()
                    request.session.pop(PENDING_TOTP_OK, None)
                    request.session.pop(PENDING_SINCE, None)
                    request.session[NEXT] = request.GET.get("next", "")
                    return self._go_on(request, outcome.account)
                return render(
                    request, self.login_template, {"error": outcome.error}, status=outcome.status
                )
            return render(request, self.login_template, {"error": ""})

        # POST only (with the CSRF token): a link or an image elsewhere must
        # not be able to end someone's session.
        @require_POST
        def logout(request: HttpRequest) -> HttpResponse:
            account = session_account(request, self.model)
            if account is not None:
                audit_record(actor=account.account_key, event="logout", request=request)
            auth.logout(request)
            return HttpResponseRedirect(reverse(f"{self.namespace}:login"))

        @never_cache
        @sensitive_post_parameters("current_password", "new_password", "new_password_again")
        def password_change(request: HttpRequest) -> HttpResponse:
            # Either a login under way that owes a change, or a logged-in
            # account changing on purpose (which must give the current one).
            pending = pending_account(request, self.model)
            owes_totp = not request.session.get(PENDING_TOTP_OK)
            if pending is not None and owes_totp and pending.totp_enrolled():
                # The second factor comes first: a password alone changes nothing.
                return HttpResponseRedirect(reverse(f"{self.namespace}:totp"))
            logged_in = session_account(request, self.model) if pending is None else None
            account = pending or logged_in
            if account is None:
                return HttpResponseRedirect(reverse(f"{self.namespace}:login"))
            errors: list[str] = []
            if request.method == "POST":
                new = request.POST.get("new_password", "")
                if not account.check_password(request.POST.get("current_password", "")):
                    errors = ["現在のパスワードが正しくありません。"]
                elif new != request.POST.get("new_password_again", ""):
                    errors = ["確認のため入力したパスワードが一致しません。"]
                else:
                    errors = account_change_password(
                        account=account, raw_password=new, request=request
                    )
                if not errors:
                    # Every session was ended: carry on in a fresh one.
                    totp_ok = bool(request.session.get(PENDING_TOTP_OK)) or logged_in is not None
                    for key in AUTH_KEYS:
                        request.session.pop(key, None)
                    request.session.cycle_key()
                    request.session[PENDING_TOTP_OK] = totp_ok
                    account.refresh_from_db()
                    return self._go_on(request, account)
            return self._page(
                request,
                "password_change.html",
                {
                    "errors": errors,
                    "forced": account.password_change_due(),
                    "expired": account.password_expired(),
                },
                status=400 if errors else 200,
            )

        @never_cache
        def totp(request: HttpRequest) -> HttpResponse:
            account = pending_account(request, self.model)
            if account is None or not account.totp_enrolled():
                return HttpResponseRedirect(reverse(f"{self.namespace}:login"))
            error = ""
            if request.method == "POST":
                verified = second_factor_attempt(
                    request, account=account, code=request.POST.get("code", "")
                )
                if verified is None:  # locked: the login starts again, later
                    request.session.flush()
                    return render(request, self.login_template, {"error": LOCKED}, status=429)
                if verified:
                    # A change of privilege: a new session key.
                    request.session.cycle_key()
                    request.session[PENDING_TOTP_OK] = True
                    return self._go_on(request, account)
                error = "確認コードが正しくありません。"
            return self._page(request, "totp.html", {"error": error}, status=401 if error else 200)

        @never_cache
        def totp_setup(request: HttpRequest) -> HttpResponse:
            account = pending_account(request, self.model)
            if account is None or account.totp_enrolled():
                return HttpResponseRedirect(reverse(f"{self.namespace}:login"))
            key = request.session.get(TOTP_SETUP_SECRET) or totp_new_key()
            request.session[TOTP_SETUP_SECRET] = key
            error = ""
            if request.method == "POST":
                codes = account_totp_confirm(
                    account=account,
                    key=key,
                    code=request.POST.get("code", ""),
                    request=request,
                )
                if codes is not None:
                    request.session.pop(TOTP_SETUP_SECRET, None)
                    request.session[PENDING_TOTP_OK] = True
                    target = login_next_step(request, account, self.namespace)
                    return self._page(
                        request,
                        "recovery_codes.html",
                        {"codes": codes, "next": target or reverse(self.home)},
                    )
                error = "確認コードが正しくありません。アプリに表示された6桁を入力してください。"
            uri = totp_uri(key, account_name=account.login_id, issuer=self.issuer)
            return self._page(
                request,
                "totp_setup.html",
                {"secret": totp_key_base32(key), "qr": totp_qr_data_uri(uri), "error": error},
                status=400 if error else 200,
            )

        return {
            "login": login,
            "logout": logout,
            "password_change": password_change,
            "totp": totp,
            "totp_setup": totp_setup,
        }
