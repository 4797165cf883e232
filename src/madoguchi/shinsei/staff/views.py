"""Staff sign-in pages on the staff listener: login, logout, password change
and the TOTP second factor (the flow itself is in ``platform.auth_views``)."""

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
