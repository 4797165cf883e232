"""Kessai's tests: Kessai's own settings (its apps, middleware, CSP and
cookie names), its two listeners and the simulators served by Host header."""

from pathlib import Path

import tests.settings_common  # noqa: F401 - sets the secret keys first
from madoguchi.kessai.settings import *  # noqa: F403
from madoguchi.kessai.settings import KESSAI_PROVIDERS as _PROVIDERS
from madoguchi.kessai.settings import MADOGUCHI_SURFACES as _SURFACES
from madoguchi.simulators.applepay import ensure_demo_pki
from tests.settings_common import *  # noqa: F403
from tests.settings_common import SIMULATOR_HOSTS, SIMULATOR_SURFACES

MADOGUCHI_SURFACES = {**_SURFACES, **SIMULATOR_SURFACES}
MADOGUCHI_SURFACE_HOSTS = {
    "kessai.test": "kessai_public",
    "console.kessai.test": "kessai_console",
    **SIMULATOR_HOSTS,
}
ALLOWED_HOSTS = list(MADOGUCHI_SURFACE_HOSTS)

KESSAI_PUBLIC_URL = "http://kessai.test"
KESSAI_ACQUIRER_URL = "http://acquirer.test"
KESSAI_ACQUIRER_KEY = ACQUIRER_API_KEY = "acq_test_key"
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
    *dict.fromkeys([*_PROVIDERS, "madoguchi.kessai.providers.applepay.provider.ApplePayProvider"])
]
KESSAI_PAYPAY_URL = "http://paypay.test"
KESSAI_PAYPAY_API_KEY = PAYPAY_API_KEY = "paypay_test_key"
KESSAI_PAYPAY_API_SECRET = PAYPAY_API_SECRET = "paypay-test-secret"
KESSAI_PAYPAY_MERCHANT_ID = PAYPAY_MERCHANT_ID = "test-merchant"
PAYPAY_WEBHOOK_URL = "http://kessai.test/paypay/webhook"
KESSAI_SBPS_API_URL = "http://sbps.test"
KESSAI_MERCHANT_SETTINGS = {}
