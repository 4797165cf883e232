"""Shinsei's staff listener: reached only from the office network (LGWAN)."""

from django.urls import include, path

from .applications import views_staff as views
from .applications.views_public import healthz

patterns = [
    path("", views.inbox, name="inbox"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("applications/<str:reference>/", views.detail, name="detail"),
    path("applications/<str:reference>/accept", views.accept, name="accept"),
    path("healthz", healthz, name="healthz"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [path("", include((patterns, "staff")))]
