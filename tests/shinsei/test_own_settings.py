"""Shinsei's tests run under Shinsei's own settings (tests/settings_shinsei.py)."""

from django.apps import apps
from django.conf import settings


def test_only_shinsei_apps_are_installed_with_its_middleware() -> None:
    assert apps.is_installed("madoguchi.shinsei.applications")
    assert not apps.is_installed("madoguchi.kessai.payments")
    assert "madoguchi.shinsei.applications.language.LanguageMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_NAME == "shinsei_public_session"
