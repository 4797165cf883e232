"""Settings for the simulators process (no database: state is in memory)."""

from madoguchi.platform.conf import env, logging_config

DEBUG = False
SECRET_KEY = env("SIMULATORS_SECRET_KEY", "simulators-have-no-secrets-to-protect")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = ["madoguchi.platform.health.HealthMiddleware"]
# One process per simulator: the card acquirer (with the 3-DS issuer page), PayPay, SBPS.
ROOT_URLCONF = {
    "simulators": "madoguchi.simulators.urls",
    "paypay_simulator": "madoguchi.simulators.urls_paypay",
    "sbps_simulator": "madoguchi.simulators.urls_sbps",
}[env("MADOGUCHI_SURFACE", "simulators")]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING = logging_config(service="simulators", surface=env("MADOGUCHI_SURFACE", "simulators"))
ACQUIRER_API_KEY = env("KESSAI_ACQUIRER_KEY", "acq_test_madoguchi")

PAYPAY_API_KEY = env("KESSAI_PAYPAY_API_KEY", "paypay_test_key")
PAYPAY_API_SECRET = env("KESSAI_PAYPAY_API_SECRET", "paypay-simulator-secret")
PAYPAY_MERCHANT_ID = env("KESSAI_PAYPAY_MERCHANT_ID", "madoguchi-sim-merchant")
# Where PayPay sends its webhooks: Kessai's public listener.
PAYPAY_WEBHOOK_URL = (
    env("KESSAI_PUBLIC_URL", "http://127.0.0.1:8100").rstrip("/") + "/paypay/webhook"
)
# Apple Pay demo mode: the test chain and the merchant's processing key (var/applepay).
APPLEPAY_DEMO_DIR = env("KESSAI_APPLEPAY_DIR", "")

# SBPS: the merchants it knows, ``merchant_id:service_id:hash_key:charset``
# separated by ``;`` (madoguchi up passes the demo's).
SBPS_SIMULATOR_MERCHANTS = env("SBPS_SIMULATOR_MERCHANTS", "")
