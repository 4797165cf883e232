"""What every test settings module adds to its service's own settings: the
test database, a cheaper password hasher, the in-process HTTP transport and
the simulators (the card acquirer and PayPay stand in for outside parties,
so they are served in-process by Host header like the listeners).

Each service's tests run under that service's settings (``settings_kessai``,
``settings_shinsei``); ``tests/settings.py`` combines both for the
cross-service journeys in ``tests/integration`` (docs/design-notes.md).
"""

import os

os.environ.setdefault("SHINSEI_SECRET_KEY", "test-shinsei-secret-key")
os.environ.setdefault("KESSAI_SECRET_KEY", "test-kessai-secret-key")
# A fixed test key-encryption key (32 bytes, base64): never used outside tests.
os.environ.setdefault("SHINSEI_DATA_KEYS", "test1:dGVzdC1vbmx5LWtlay1mb3ItbWFkb2d1Y2hpLXRlc3Q")

from madoguchi.platform.conf import database_from_url, env
from madoguchi.platform.demo import (
    DEMO_SBPS_API_SERVICE_ID,
    DEMO_SBPS_LINK_SERVICE_ID,
    DEMO_SBPS_MERCHANT_ID,
    demo_sbps_hash_key,
)

DATABASES = {
    "default": database_from_url(
        env("MADOGUCHI_TEST_DATABASE_URL", "sqlite:///madoguchi-test.sqlite3")
    )
}
# Tests hash many passwords: the same Argon2id hasher with cheaper parameters.
PASSWORD_HASHERS = ["tests.support.hashers.FastArgon2PasswordHasher"]
MADOGUCHI_AUDIT_APPEND_ONLY = False  # the guard tests install it; see platform/audit/guard.py
MADOGUCHI_DEMO = True  # simulators and demo keys throughout the tests
MADOGUCHI_HTTP_TRANSPORT = "tests.support.transport.InProcessTransport"
# Most of the suite exercises Kessai against the acquirer sandbox (the test
# fake); SBPS's API type has its own tests (tests/integration/kessai/test_sbps_*).
KESSAI_DEFAULT_CARD_CONNECTOR = "sandbox"
KESSAI_DEMO_CARD_CONNECTOR = "sandbox"

SIMULATOR_SURFACES = {
    "simulators": "madoguchi.simulators.urls",
    "paypay_simulator": "madoguchi.simulators.urls_paypay",
    "sbps_simulator": "madoguchi.simulators.urls_sbps",
}
SIMULATOR_HOSTS = {
    "acquirer.test": "simulators",
    "paypay.test": "paypay_simulator",
    "sbps.test": "sbps_simulator",
}
# SBPS's simulator knows the demo merchant's two services (link type, API type).
_SBPS_KEY = demo_sbps_hash_key()
SBPS_SIMULATOR_MERCHANTS = (
    f"{DEMO_SBPS_MERCHANT_ID}:{DEMO_SBPS_LINK_SERVICE_ID}:{_SBPS_KEY}:Shift_JIS;"
    f"{DEMO_SBPS_MERCHANT_ID}:{DEMO_SBPS_API_SERVICE_ID}:{_SBPS_KEY}:Shift_JIS"
)
