"""Console sign-in pages: login, logout, password change and the TOTP second
factor, mandatory here (the flow itself is in ``platform.auth_views``)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from madoguchi.platform.accounts import login_required
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.audit.views import audit_page
from madoguchi.platform.auth_views import AuthViews

from .models import ConsoleAccount

_views = AuthViews(
    model=ConsoleAccount,
    namespace="console",
    home="console:payments",
    base_template="console/base.html",
    login_template="console/login.html",
    issuer="Madoguchi Kessai",
).views()

login = _views["login"]
logout = _views["logout"]
password_change = _views["password_change"]
totp = _views["totp"]
totp_setup = _views["totp_setup"]


@never_cache
@require_GET
@login_required(ConsoleAccount, "console:login")
def audit(request: HttpRequest) -> HttpResponse:
    """The audit log, read-only, for administrators only."""
    account: ConsoleAccount = request.account  # type: ignore[attr-defined]
    if not account.has_perm("kessai_console.administer"):
        audit_record(
            actor=account.account_key, event="audit.view", outcome="denied", request=request
        )
        raise PermissionDenied
    audit_record(actor=account.account_key, event="audit.view", request=request)
    return audit_page(request, base_template="console/base.html")
