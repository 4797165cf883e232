"""Kessai's production checks: no simulator, no demo credentials (see
``madoguchi.platform.production``)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error

from madoguchi.platform.production import is_production, is_simulator_url

# The defaults in kessai/settings.py: what the simulators accept.
DEMO_VALUES = {
    "KESSAI_ACQUIRER_KEY": ("acq_test_madoguchi",),
    "KESSAI_PAYPAY_API_KEY": ("paypay_test_key",),
    "KESSAI_PAYPAY_API_SECRET": ("paypay-simulator-secret", "paypay-test-secret"),
    "KESSAI_PAYPAY_MERCHANT_ID": ("madoguchi-sim-merchant", "test-merchant"),
    "KESSAI_APPLEPAY_MERCHANT_ID": ("merchant.jp.madoguchi.demo", "merchant.jp.madoguchi.test"),
}
PROVIDER_SETTINGS = {
    "card": ("KESSAI_ACQUIRER_URL", ["KESSAI_ACQUIRER_KEY"]),
    "paypay": (
        "KESSAI_PAYPAY_URL",
        ["KESSAI_PAYPAY_API_KEY", "KESSAI_PAYPAY_API_SECRET", "KESSAI_PAYPAY_MERCHANT_ID"],
    ),
    # Apple Pay authorizes through the acquirer, checked with the card.
    "applepay": ("", ["KESSAI_APPLEPAY_MERCHANT_ID"]),
}


def _enabled(name: str) -> bool:
    return any(f".providers.{name}." in path for path in settings.KESSAI_PROVIDERS)


def kessai_fails_closed(
    *,
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    if not is_production():
        return []
    errors: list[CheckMessage] = []
    for provider, (url_setting, secret_settings) in PROVIDER_SETTINGS.items():
        if not _enabled(provider) and provider != "card":
            continue
        if url_setting and is_simulator_url(getattr(settings, url_setting)):
            errors.append(
                Error(
                    f"{url_setting} points at a simulator ({getattr(settings, url_setting)}).",
                    hint="Set the provider's real URL, or MADOGUCHI_DEMO=1 for a demo.",
                    id="madoguchi.E101",
                )
            )
        for name in secret_settings:
            value = str(getattr(settings, name, ""))
            if not value or value in DEMO_VALUES.get(name, ()):
                errors.append(
                    Error(
                        f"{name} is empty or a demo value.",
                        hint="Set the real credential, or MADOGUCHI_DEMO=1 for a demo.",
                        id="madoguchi.E102",
                    )
                )
    if _enabled("applepay") and (
        settings.KESSAI_APPLEPAY_DEMO_URL or settings.KESSAI_APPLEPAY_ALLOW_HTTP
    ):
        errors.append(
            Error(
                "Apple Pay is in demo mode (KESSAI_APPLEPAY_DEMO_URL or "
                "KESSAI_APPLEPAY_ALLOW_HTTP is set).",
                hint="Unset both in production, or set MADOGUCHI_DEMO=1 for a demo.",
                id="madoguchi.E103",
            )
        )
    return errors
