"""Kessai's public listener: the merchant API and the hosted payment page."""

from django.urls import include, path

from .payments import views
from .payments.api import api

patterns = [
    path("checkout/<str:token>/", views.checkout_start, name="checkout"),
    path("pay/<str:public_id>/", views.pay, name="pay"),
    path("pay/<str:public_id>/card", views.pay_card, name="pay_card"),
    path("pay/<str:public_id>/card/3ds", views.card_challenge, name="card_challenge"),
    path("pay/<str:public_id>/card/return", views.card_return, name="card_return"),
    path("pay/<str:public_id>/complete", views.complete, name="complete"),
    path("pay/<str:public_id>/back", views.back_to_merchant, name="back"),
    path("healthz", views.healthz, name="healthz"),
]


# Namespaced so names stay unambiguous where a test process serves every surface.
urlpatterns = [
    path("api/", api.urls),
    path("", include((patterns, "kessai"))),
]
