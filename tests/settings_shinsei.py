"""Shinsei's tests: Shinsei's own settings (its apps, middleware, CSP and
cookie names) and its two listeners. Kessai is not in this process: a test
that needs it belongs in tests/integration."""

import tests.settings_common  # noqa: F401 - sets the secret keys first
from madoguchi.shinsei.settings import *  # noqa: F403
from tests.settings_common import *  # noqa: F403

MADOGUCHI_SURFACE_HOSTS = {"shinsei.test": "shinsei_public", "staff.shinsei.test": "shinsei_staff"}
ALLOWED_HOSTS = list(MADOGUCHI_SURFACE_HOSTS)
SHINSEI_PUBLIC_URL = "http://shinsei.test"
SHINSEI_KESSAI_API_URL = "http://kessai.test/api"
# Agencies' credentials come from their rows in tests unless a test overrides this.
SHINSEI_AGENCY_CREDENTIALS = {}
