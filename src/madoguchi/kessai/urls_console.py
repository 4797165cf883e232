"""Kessai's internal listener: the payment administrators' console."""

from django.urls import include, path

from .console import auth_views as auth
from .console import views
from .payments.views import healthz

patterns = [
    path("", views.payments, name="payments"),
    path("login", auth.login, name="login"),
    path("logout", auth.logout, name="logout"),
    path("password", auth.password_change, name="password_change"),
    path("login/totp", auth.totp, name="totp"),
    path("login/totp-setup", auth.totp_setup, name="totp_setup"),
    path("audit", auth.audit, name="audit"),
    path("healthz", healthz, name="healthz"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [path("", include((patterns, "console")))]
