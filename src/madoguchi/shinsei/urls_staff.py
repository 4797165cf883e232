"""Shinsei's staff listener: reached only from the office network (LGWAN)."""

from django.urls import include, path

from .applications import views_staff as views
from .applications.views_public import healthz
from .procedures import views_admin

patterns = [
    path("", views.inbox, name="inbox"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("export.csv", views.export_csv, name="export"),
    path("applications/<str:reference>/", views.detail, name="detail"),
    path("applications/<str:reference>/accept", views.accept, name="accept"),
    path("applications/<str:reference>/reject", views.reject, name="reject"),
    path("applications/<str:reference>/return", views.return_, name="return"),
    path("applications/<str:reference>/complete", views.complete, name="complete"),
    path("applications/<str:reference>/notes", views.note, name="note"),
    path(
        "applications/<str:reference>/files/<uuid:file_id>",
        views.file_download,
        name="file",
    ),
    path("admin/procedures/", views_admin.procedure_list, name="admin_procedures"),
    path("admin/procedures/new", views_admin.procedure_edit, name="admin_procedure_new"),
    path(
        "admin/procedures/<int:procedure_id>/",
        views_admin.procedure_edit,
        name="admin_procedure",
    ),
    path("admin/departments/", views_admin.department_list, name="admin_departments"),
    path("healthz", healthz, name="healthz"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [path("", include((patterns, "staff")))]
