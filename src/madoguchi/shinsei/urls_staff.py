"""Shinsei's staff listener: reached only from the office network (LGWAN)."""

from django.urls import include, path

from .applications import views_staff as views
from .applications.views_public import healthz
from .staff import views as auth

patterns = [
    path("", views.inbox, name="inbox"),
    path("login", auth.login, name="login"),
    path("logout", auth.logout, name="logout"),
    path("password", auth.password_change, name="password_change"),
    path("login/totp", auth.totp, name="totp"),
    path("login/totp-setup", auth.totp_setup, name="totp_setup"),
    path("applications/<str:reference>/", views.detail, name="detail"),
    path("applications/<str:reference>/accept", views.accept, name="accept"),
    path("audit", auth.audit, name="audit"),
    path("healthz", healthz, name="healthz"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [path("", include((patterns, "staff")))]
