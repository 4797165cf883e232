"""Kessai's internal listener: the payment administrators' console."""

from django.urls import include, path

from madoguchi.platform.errors import error_handlers
from madoguchi.platform.metrics import metrics_view

from .console import auth_views as auth
from .console import manage_views, operation_views, pages
from .console.admin import site as admin_site
from .payments.views import healthz

patterns = [
    # The landing page after login ("payments"): the transaction search.
    path("", pages.transactions, name="payments"),
    path("transactions/<str:public_id>", pages.transaction_detail, name="transaction"),
    path(
        "transactions/<str:public_id>/cancel",
        operation_views.payment_cancel,
        name="payment_cancel",
    ),
    path(
        "transactions/<str:public_id>/refund",
        operation_views.payment_refund,
        name="payment_refund",
    ),
    path(
        "transactions/<str:public_id>/attempts/<int:attempt_id>/inquire",
        operation_views.attempt_inquire,
        name="attempt_inquire",
    ),
    path(
        "notifications/failed",
        operation_views.notifications_failed,
        name="notifications_failed",
    ),
    path(
        "notifications/<int:notification_id>/resend",
        operation_views.notification_resend,
        name="notification_resend",
    ),
    path("refunds", operation_views.refund_register, name="refund_register"),
    path("refunds.csv", operation_views.refund_register_csv, name="refund_register_csv"),
    path("dashboard", pages.dashboard_day, name="dashboard_day"),
    path("dashboard/month", pages.dashboard_month, name="dashboard_month"),
    path("exports", pages.export_index, name="exports"),
    path("exports/transactions.csv", pages.export_transactions, name="export_transactions"),
    path("exports/daily.csv", pages.export_daily, name="export_daily"),
    path("exports/monthly.csv", pages.export_monthly, name="export_monthly"),
    path("merchants", manage_views.merchants, name="merchants"),
    path("merchants/new", manage_views.merchant_new, name="merchant_new"),
    path("merchants/<slug:code>", manage_views.merchant_detail, name="merchant"),
    path(
        "merchants/<slug:code>/api-key",
        manage_views.merchant_api_key_rotate,
        name="merchant_api_key_rotate",
    ),
    path(
        "merchants/<slug:code>/secret",
        manage_views.merchant_secret_rotate,
        name="merchant_secret_rotate",
    ),
    path(
        "merchants/<slug:code>/secret/retire",
        manage_views.merchant_secret_retire,
        name="merchant_secret_retire",
    ),
    path("merchants/<slug:code>/end", manage_views.merchant_end, name="merchant_end"),
    path(
        "merchants/<slug:code>/resend-given-up",
        operation_views.merchant_resend_given_up,
        name="merchant_resend_given_up",
    ),
    path("reports", manage_views.reports, name="reports"),
    path("reports/<int:pk>", manage_views.report, name="report"),
    path("reports/<int:pk>.csv", manage_views.report_download, name="report_download"),
    path("accounts", manage_views.accounts, name="accounts"),
    path("fee-rates", manage_views.fee_rates, name="fee_rates"),
    path("fee-rates/new", manage_views.fee_rate_new, name="fee_rate_new"),
    path("login", auth.login, name="login"),
    path("logout", auth.logout, name="logout"),
    path("password", auth.password_change, name="password_change"),
    path("login/totp", auth.totp, name="totp"),
    path("login/totp-setup", auth.totp_setup, name="totp_setup"),
    path("audit", auth.audit, name="audit"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [
    path("", include((patterns, "console"))),
    # The operators' admin (read-only, this listener only), in Django's
    # "admin" namespace.
    path("ops/", admin_site.urls),
]

handler400, handler403, handler404, handler500 = error_handlers("console/error.html")
