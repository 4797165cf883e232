"""Console sign-in pages: login, logout, password change and the TOTP second
factor, mandatory here (the flow itself is in ``platform.auth_views``)."""

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
