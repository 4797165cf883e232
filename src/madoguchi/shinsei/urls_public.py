"""Shinsei's public listener: citizens, and Kessai's notifications."""

from django.urls import include, path

from madoguchi.platform.errors import error_handlers

from .applications import views_public as views
from .applications.language import request_language, set_language
from .gateways.sbps_link import views as sbps_views

patterns = [
    path("", views.procedure_list, name="procedures"),
    path("procedures/<slug:slug>/", views.procedure_start, name="procedure"),
    path("procedures/<slug:slug>/steps/<int:number>", views.procedure_step, name="step"),
    path("procedures/<slug:slug>/check", views.procedure_check, name="check"),
    path("procedures/<slug:slug>/privacy", views.procedure_privacy, name="privacy"),
    path(
        "procedures/<slug:slug>/privacy/<int:number>",
        views.procedure_privacy,
        name="privacy_version",
    ),
    path("drafts/saved", views.draft_saved, name="saved"),
    path("drafts/<str:token>", views.draft_resume, name="draft"),
    path("submitted", views.submitted, name="submitted"),
    path("inquiry", views.inquiry, name="inquiry"),
    path("applications/<str:reference>/", views.application_status, name="status"),
    path("applications/<str:reference>/withdraw", views.application_withdraw, name="withdraw"),
    path("applications/<str:reference>/correct", views.application_correct, name="correct"),
    path("applications/<str:reference>/pay", views.application_pay, name="pay"),
    path("applications/<str:reference>/payment", views.application_payment, name="payment"),
    path(
        "applications/<str:reference>/payment-return", views.payment_return, name="payment_return"
    ),
    path(
        "kessai/notifications/<slug:agency_code>",
        views.kessai_notification,
        name="kessai_notification",
    ),
    path(
        "applications/<str:reference>/sbps/<str:outcome>",
        sbps_views.browser_return,
        name="sbps_return",
    ),
    path("sbps/notifications/<slug:agency_code>", sbps_views.pagecon, name="sbps_pagecon"),
    path("language/<str:language>", set_language, name="language"),
    path("healthz", views.healthz, name="healthz"),
]

# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [path("", include((patterns, "shinsei")))]

handler400, handler403, handler404, handler500 = error_handlers(
    "shinsei/error.html", language=request_language
)
