"""Kessai's internal listener: the payment administrators' console."""

from django.urls import include, path

from .console import views
from .payments.views import healthz

patterns = [
    path("", views.payments, name="payments"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("healthz", healthz, name="healthz"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [path("", include((patterns, "console")))]
