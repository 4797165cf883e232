"""Shinsei's tests: Shinsei's own settings (its apps, middleware, CSP and
cookie names) and its two listeners. Kessai is not in this process: a test
that needs it belongs in tests/integration."""

import tests.settings_common  # noqa: F401 - sets the secret keys first
from madoguchi.shinsei.settings import *  # noqa: F403
from madoguchi.shinsei.settings import MADOGUCHI_SURFACES as _SURFACES
from tests.settings_common import *  # noqa: F403
from tests.settings_common import SIMULATOR_SURFACES

# SBPS's link type: Shinsei itself sends the citizen to SBPS (its simulator).
MADOGUCHI_SURFACES = {**_SURFACES, "sbps_simulator": SIMULATOR_SURFACES["sbps_simulator"]}
MADOGUCHI_SURFACE_HOSTS = {
    "shinsei.test": "shinsei_public",
    "staff.shinsei.test": "shinsei_staff",
    "sbps.test": "sbps_simulator",
}
ALLOWED_HOSTS = list(MADOGUCHI_SURFACE_HOSTS)
SHINSEI_PUBLIC_URL = "http://shinsei.test"
SHINSEI_KESSAI_API_URL = "http://kessai.test/api"
SHINSEI_SBPS_PURCHASE_URL = "http://sbps.test/f01/FepBuyInfoReceive.do"
SHINSEI_SBPS_API_URL = "http://sbps.test"
# Agencies' credentials come from their rows in tests unless a test overrides this.
SHINSEI_AGENCY_CREDENTIALS = {}
# In-process calls to Kessai must stay on the test's thread (its transaction);
# the concurrent path has its own test with a stand-in for Kessai.
SHINSEI_RECONCILE_CONCURRENCY = 1
