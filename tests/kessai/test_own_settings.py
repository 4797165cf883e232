"""Kessai's tests run under Kessai's own settings (tests/settings_kessai.py),
not under Shinsei's: these fail if they ever run under the combined ones."""

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client


@pytest.mark.django_db
def test_kessai_csp_allows_forms_to_post_only_to_kessai() -> None:
    # Shinsei's CSP also allows form-action to Kessai's origin (its 支払う
    # redirects there); Kessai's own allows nothing but itself.
    response = Client(HTTP_HOST="console.kessai.test").get("/login")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["form-action"] == "'self'"
    assert response.cookies[settings.CSRF_COOKIE_NAME]
    assert settings.CSRF_COOKIE_NAME.startswith("kessai_")


def test_only_kessai_apps_and_middleware_are_installed() -> None:
    assert apps.is_installed("madoguchi.kessai.payments")
    assert not apps.is_installed("madoguchi.shinsei.applications")
    assert "madoguchi.shinsei.applications.language.LanguageMiddleware" not in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_NAME == "kessai_public_session"
