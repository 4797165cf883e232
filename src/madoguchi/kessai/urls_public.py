"""Kessai's public listener: the merchant API and the hosted payment page."""

from django.urls import include, path

from madoguchi.platform.errors import error_handlers

from .payments import views
from .payments.api import api

patterns = [
    path("checkout/<str:token>/", views.checkout_start, name="checkout"),
    path("pay/<str:public_id>/", views.pay, name="pay"),
    path("pay/<str:public_id>/card", views.pay_card, name="pay_card"),
    path("pay/<str:public_id>/card/3ds", views.card_challenge, name="card_challenge"),
    path(
        "pay/<str:public_id>/card/3ds/cancel",
        views.card_challenge_cancel,
        name="card_challenge_cancel",
    ),
    path("pay/<str:public_id>/card/return", views.card_return, name="card_return"),
    path("pay/<str:public_id>/paypay/start", views.paypay_start, name="paypay_start"),
    path("pay/<str:public_id>/paypay", views.paypay, name="paypay"),
    path("pay/<str:public_id>/paypay/status", views.paypay_status, name="paypay_status"),
    path("pay/<str:public_id>/paypay/return", views.paypay_return, name="paypay_return"),
    path("pay/<str:public_id>/paypay/cancel", views.paypay_cancel, name="paypay_cancel"),
    path("paypay/webhook", views.paypay_webhook, name="paypay_webhook"),
    path(
        "pay/<str:public_id>/applepay/validate", views.applepay_validate, name="applepay_validate"
    ),
    path(
        "pay/<str:public_id>/applepay/authorize",
        views.applepay_authorize,
        name="applepay_authorize",
    ),
    path("pay/<str:public_id>/applepay/demo", views.applepay_demo, name="applepay_demo"),
    path("pay/<str:public_id>/complete", views.complete, name="complete"),
    path("pay/<str:public_id>/back", views.back_to_merchant, name="back"),
    path("healthz", views.healthz, name="healthz"),
]


# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [
    path("api/", api.urls),
    path("", include((patterns, "kessai"))),
]

# The API keeps its own JSON error shape.
handler400, handler403, handler404, handler500 = error_handlers(
    "kessai/error.html", language=views.page_language, passthrough=("/api/",)
)
