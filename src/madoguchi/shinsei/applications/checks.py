"""Shinsei's production check: uploads need a real scanner (see
``madoguchi.platform.production``)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error

from madoguchi.platform.production import is_production

BUILTIN_SCANNER = "madoguchi.shinsei.applications.files.scan_builtin"


def shinsei_fails_closed(
    *,
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    if not is_production() or settings.SHINSEI_FILE_SCANNER != BUILTIN_SCANNER:
        return []
    return [
        Error(
            "Uploads are checked only by the built-in test-signature scanner.",
            hint="Set SHINSEI_FILE_SCANNER to a hook that calls a real scanner "
            "(docs/operations.md), or MADOGUCHI_DEMO=1 for a demo.",
            id="madoguchi.E111",
        )
    ]
