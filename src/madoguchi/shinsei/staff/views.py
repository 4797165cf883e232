"""Staff sign-in pages on the staff listener: login, logout, password change
and the TOTP second factor (the flow itself is in ``platform.auth_views``)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from madoguchi.platform.accounts import login_required
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.audit.views import audit_page
from madoguchi.platform.auth_views import AuthViews

from .models import StaffAccount

_views = AuthViews(
    model=StaffAccount,
    namespace="staff",
    home="staff:inbox",
    base_template="shinsei/staff/base.html",
    login_template="shinsei/staff/login.html",
    issuer="Madoguchi Shinsei",
).views()

login = _views["login"]
logout = _views["logout"]
password_change = _views["password_change"]
totp = _views["totp"]
totp_setup = _views["totp_setup"]


@never_cache
@require_GET
@login_required(StaffAccount, "staff:login")
def audit(request: HttpRequest) -> HttpResponse:
    """The audit log, read-only, for administrators only."""
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    # Only administrators (管理者) read the audit log; reviewers and
    # department staff are refused.
    if not staff.is_administrator:
        audit_record(actor=staff.account_key, event="audit.view", outcome="denied", request=request)
        raise PermissionDenied
    audit_record(actor=staff.account_key, event="audit.view", request=request)
    return audit_page(request, base_template="shinsei/staff/base.html")
