"""Shinsei's staff listener: reached only from the office network (LGWAN)."""

from django.urls import include, path

from madoguchi.platform.errors import error_handlers
from madoguchi.platform.metrics import metrics_view

from .applications import views_staff as views
from .applications.admin import site as admin_site
from .applications.views_public import healthz
from .privacy import views as privacy
from .procedures import views_admin
from .staff import views as auth

patterns = [
    path("", views.inbox, name="inbox"),
    path("login", auth.login, name="login"),
    path("logout", auth.logout, name="logout"),
    path("password", auth.password_change, name="password_change"),
    path("login/totp", auth.totp, name="totp"),
    path("login/totp-setup", auth.totp_setup, name="totp_setup"),
    path("audit", auth.audit, name="audit"),
    path("export.csv", views.export_csv, name="export"),
    path("applications/<str:reference>/", views.detail, name="detail"),
    path("applications/<str:reference>/accept", views.accept, name="accept"),
    path("applications/<str:reference>/reject", views.reject, name="reject"),
    path("applications/<str:reference>/return", views.return_, name="return"),
    path("applications/<str:reference>/complete", views.complete, name="complete"),
    path("applications/<str:reference>/notes", views.note, name="note"),
    path("applications/<str:reference>/refunds", views.refund_request, name="refund_request"),
    path(
        "applications/<str:reference>/refunds/<int:refund_id>/approve",
        views.refund_approve,
        name="refund_approve",
    ),
    path(
        "applications/<str:reference>/refunds/<int:refund_id>/decline",
        views.refund_decline,
        name="refund_decline",
    ),
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
    path("admin/privacy/", privacy.privacy_home, name="privacy"),
    path("admin/privacy/access-request", privacy.access_request, name="privacy_access"),
    path(
        "admin/privacy/reports/<int:report_id>.csv",
        privacy.report_download,
        name="privacy_report",
    ),
    path("applications/<str:reference>/hold", privacy.legal_hold, name="legal_hold"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [
    path("", include((patterns, "staff"))),
    # The operators' admin (read-only, this listener only), in Django's
    # "admin" namespace.
    path("ops/", admin_site.urls),
]

handler400, handler403, handler404, handler500 = error_handlers("shinsei/staff/error.html")
