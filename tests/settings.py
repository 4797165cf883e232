"""Test settings: one process serves every surface of both services, routed
by Host header, over one test database. The services still never import each
other (import-linter checks that) and talk only through HTTP: their calls go
through ``InProcessTransport``, which hands the request to the Django handler
for the target host. The end-to-end tests run the real separate processes.
"""

import os
from pathlib import Path

os.environ.setdefault("SHINSEI_SECRET_KEY", "test-shinsei-secret-key")
os.environ.setdefault("KESSAI_SECRET_KEY", "test-kessai-secret-key")
# A fixed test key-encryption key (32 bytes, base64): never used outside tests.
os.environ.setdefault("SHINSEI_DATA_KEYS", "test1:dGVzdC1vbmx5LWtlay1mb3ItbWFkb2d1Y2hpLXRlc3Q")

from madoguchi.kessai import settings as kessai
from madoguchi.platform.conf import database_from_url, env
from madoguchi.platform.demo import (
    DEMO_SBPS_API_SERVICE_ID,
    DEMO_SBPS_LINK_SERVICE_ID,
    DEMO_SBPS_MERCHANT_ID,
    demo_sbps_hash_key,
)
from madoguchi.shinsei import settings as shinsei
from madoguchi.shinsei.settings import *  # noqa: F403
from madoguchi.simulators.applepay import ensure_demo_pki

INSTALLED_APPS = list(dict.fromkeys(shinsei.INSTALLED_APPS + kessai.INSTALLED_APPS))
MADOGUCHI_SURFACES = {
    **shinsei.MADOGUCHI_SURFACES,
    **kessai.MADOGUCHI_SURFACES,
    "simulators": "madoguchi.simulators.urls",
    "paypay_simulator": "madoguchi.simulators.urls_paypay",
    "sbps_simulator": "madoguchi.simulators.urls_sbps",
}
MADOGUCHI_SURFACE_HOSTS = {
    "shinsei.test": "shinsei_public",
    "staff.shinsei.test": "shinsei_staff",
    "kessai.test": "kessai_public",
    "console.kessai.test": "kessai_console",
    "acquirer.test": "simulators",
    "paypay.test": "paypay_simulator",
    "sbps.test": "sbps_simulator",
}
ALLOWED_HOSTS = list(MADOGUCHI_SURFACE_HOSTS)
MADOGUCHI_PERIODIC = shinsei.MADOGUCHI_PERIODIC + kessai.MADOGUCHI_PERIODIC
MADOGUCHI_METRICS_COLLECTORS = (
    shinsei.MADOGUCHI_METRICS_COLLECTORS + kessai.MADOGUCHI_METRICS_COLLECTORS
)
MADOGUCHI_HTTP_TRANSPORT = "tests.support.transport.InProcessTransport"

SHINSEI_PUBLIC_URL = "http://shinsei.test"
SHINSEI_KESSAI_API_URL = "http://kessai.test/api"
KESSAI_PUBLIC_URL = "http://kessai.test"
KESSAI_ACQUIRER_URL = "http://acquirer.test"
KESSAI_ACQUIRER_KEY = ACQUIRER_API_KEY = "acq_test_key"
KESSAI_CHECKOUT_LINK_SECONDS = kessai.KESSAI_CHECKOUT_LINK_SECONDS
# Apple Pay with a test root and keys generated once under var/ (gitignored).
APPLEPAY_DEMO_DIR = str(Path(__file__).resolve().parent.parent / "var" / "test-applepay")
_applepay = ensure_demo_pki(Path(APPLEPAY_DEMO_DIR))
KESSAI_APPLEPAY_MERCHANT_ID = "merchant.jp.madoguchi.test"
KESSAI_APPLEPAY_DISPLAY_NAME = "オンライン決済"
KESSAI_APPLEPAY_ROOT_CERT = _applepay["root_cert"]
KESSAI_APPLEPAY_PROCESSING_KEY = _applepay["processing_key"]
KESSAI_APPLEPAY_IDENTITY_CERT = _applepay["identity_cert"]
KESSAI_APPLEPAY_IDENTITY_KEY = _applepay["identity_key"]
KESSAI_APPLEPAY_VALIDATION_HOSTS = ["acquirer.test"]
KESSAI_APPLEPAY_ALLOW_HTTP = True
KESSAI_APPLEPAY_DEMO_URL = "http://acquirer.test/applepay/sheet"
KESSAI_PROVIDERS = [
    *kessai.KESSAI_PROVIDERS,
    "madoguchi.kessai.providers.applepay.provider.ApplePayProvider",
]
KESSAI_PAYPAY_URL = "http://paypay.test"
KESSAI_PAYPAY_API_KEY = PAYPAY_API_KEY = "paypay_test_key"
KESSAI_PAYPAY_API_SECRET = PAYPAY_API_SECRET = "paypay-test-secret"
KESSAI_PAYPAY_MERCHANT_ID = PAYPAY_MERCHANT_ID = "test-merchant"
PAYPAY_WEBHOOK_URL = "http://kessai.test/paypay/webhook"
SHINSEI_SBPS_PURCHASE_URL = "http://sbps.test/f01/FepBuyInfoReceive.do"
SHINSEI_SBPS_API_URL = KESSAI_SBPS_API_URL = "http://sbps.test"
_SBPS_KEY = demo_sbps_hash_key()
SBPS_SIMULATOR_MERCHANTS = (
    f"{DEMO_SBPS_MERCHANT_ID}:{DEMO_SBPS_LINK_SERVICE_ID}:{_SBPS_KEY}:Shift_JIS;"
    f"{DEMO_SBPS_MERCHANT_ID}:{DEMO_SBPS_API_SERVICE_ID}:{_SBPS_KEY}:Shift_JIS"
)

DATABASES = {
    "default": database_from_url(
        env("MADOGUCHI_TEST_DATABASE_URL", "sqlite:///madoguchi-test.sqlite3")
    )
}
# Tests hash many passwords: the same Argon2id hasher with cheaper parameters.
PASSWORD_HASHERS = ["tests.support.hashers.FastArgon2PasswordHasher"]
MADOGUCHI_AUDIT_APPEND_ONLY = False  # the guard tests install it; see platform/audit/guard.py
# Agencies' credentials come from their rows in tests unless a test overrides this.
SHINSEI_AGENCY_CREDENTIALS = {}
MADOGUCHI_DEMO = True  # simulators and demo keys throughout the tests
# In-process calls to Kessai must stay on the test's thread (its transaction);
# the concurrent path has its own test with a stand-in for Kessai.
SHINSEI_RECONCILE_CONCURRENCY = 1
KESSAI_MERCHANT_SETTINGS: dict[str, dict[str, str]] = {}
