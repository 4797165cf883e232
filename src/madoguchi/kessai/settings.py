"""Kessai (オンライン決済システム) settings. One process serves one surface."""

from madoguchi.platform.conf import (
    COMMON_APPS,
    MERCHANT_SETTINGS_FROM_ENV,
    caches_from_env,
    database_from_env,
    env,
    logging_config,
    per_code_settings_from_env,
    secret_key_from_env,
    static_root,
    surface_from_env,
)
from madoguchi.platform.settings_base import *  # noqa: F403

MADOGUCHI_SURFACES = {
    "kessai_public": "madoguchi.kessai.urls_public",
    "kessai_console": "madoguchi.kessai.urls_console",
}
MADOGUCHI_SURFACE = surface_from_env(MADOGUCHI_SURFACES)
ROOT_URLCONF = MADOGUCHI_SURFACES[MADOGUCHI_SURFACE]
MADOGUCHI_SERVICE = "kessai"
LOGGING = logging_config(service=MADOGUCHI_SERVICE, surface=MADOGUCHI_SURFACE)
SECRET_KEY = secret_key_from_env("kessai")
DATABASES = {"default": database_from_env("kessai")}
CACHES = caches_from_env("kessai")
STATIC_ROOT = static_root("kessai")
SESSION_COOKIE_NAME = f"{MADOGUCHI_SURFACE}_session"
CSRF_COOKIE_NAME = f"{MADOGUCHI_SURFACE}_csrf"
INSTALLED_APPS = [
    *COMMON_APPS,
    "madoguchi.kessai.merchants",
    "madoguchi.kessai.payments",
    "madoguchi.kessai.console",
    "madoguchi.kessai.statistics",
    "madoguchi.kessai.history",
]
AUTH_USER_MODEL = "kessai_console.ConsoleAccount"
AUTHENTICATION_BACKENDS = ["madoguchi.kessai.console.backends.ConsoleBackend"]

KESSAI_PUBLIC_URL = env("KESSAI_PUBLIC_URL", "http://127.0.0.1:8100")
KESSAI_ACQUIRER_URL = env("KESSAI_ACQUIRER_URL", "http://127.0.0.1:8200")
KESSAI_ACQUIRER_KEY = env("KESSAI_ACQUIRER_KEY", "acq_test_madoguchi")
# SBPS's API type (API型) for merchants whose card connector is ``sbps_api``;
# the per-merchant codes and hash key: KESSAI_SBPS_*__<CODE>, or the row.
KESSAI_SBPS_API_URL = env("KESSAI_SBPS_API_URL", "http://127.0.0.1:8202")
# Where SBPS's EMV 3-D Secure pages are (its answers' redirect_url): the card
# form may post through to that origin. Empty: the API's own origin.
KESSAI_SBPS_TDS_URL = env("KESSAI_SBPS_TDS_URL", "")
KESSAI_MERCHANT_SETTINGS = per_code_settings_from_env(MERCHANT_SETTINGS_FROM_ENV)
# The card connector of a merchant registered from now on: SBPS's documented
# API type. ``sandbox`` (the acquirer simulator, whose protocol is the
# simulator's own) is a test fake, not for production.
KESSAI_DEFAULT_CARD_CONNECTOR = env("KESSAI_DEFAULT_CARD_CONNECTOR", "sbps_api")
# The demo's 市長 and 農業委員会 (教育委員会 is always on ``sbps_api``): SBPS's
# simulator, as for a new merchant; ``sandbox`` for the acquirer simulator.
KESSAI_DEMO_CARD_CONNECTOR = env("KESSAI_DEMO_CARD_CONNECTOR", "sbps_api")
KESSAI_CHECKOUT_LINK_SECONDS = int(env("KESSAI_CHECKOUT_LINK_SECONDS", "900"))
# How long a web process remembers an API key it has authenticated; a key
# revoked in another process stops working here at most this late (0: off).
MADOGUCHI_API_KEY_CACHE_SECONDS = float(env("MADOGUCHI_API_KEY_CACHE_SECONDS", "10"))
# Seed 2(6)イ(エ): after a contract ends, its payment history is kept this long.
KESSAI_HISTORY_RETENTION_DAYS = int(env("KESSAI_HISTORY_RETENTION_DAYS", str(5 * 366)))
KESSAI_PROVIDERS = [
    "madoguchi.kessai.providers.card.provider.CardProvider",
    "madoguchi.kessai.providers.paypay.provider.PayPayProvider",
]
# PayPay Open Payment API (the simulator under `madoguchi up`; in production
# https://api.paypay.ne.jp with the merchant's own key, secret and merchant id).
KESSAI_PAYPAY_URL = env("KESSAI_PAYPAY_URL", "http://127.0.0.1:8201")
KESSAI_PAYPAY_API_KEY = env("KESSAI_PAYPAY_API_KEY", "paypay_test_key")
KESSAI_PAYPAY_API_SECRET = env("KESSAI_PAYPAY_API_SECRET", "paypay-simulator-secret")
KESSAI_PAYPAY_MERCHANT_ID = env("KESSAI_PAYPAY_MERCHANT_ID", "madoguchi-sim-merchant")

MADOGUCHI_METRICS_COLLECTORS = ["madoguchi.kessai.payments.metrics.KessaiCollector"]

MADOGUCHI_PERIODIC = [
    ("madoguchi.kessai.payments.tasks.notifications_sweep", 30.0),
    ("madoguchi.kessai.payments.tasks.payments_sweep", 30.0),
    ("madoguchi.kessai.history.tasks.history_sweep", 3600.0),
]

# Apple Pay. The files come from Apple (merchant identity certificate and key
# for merchant validation; payment processing key; Apple Root CA - G3); under
# `madoguchi up` they are generated test stand-ins (var/applepay/).
KESSAI_APPLEPAY_MERCHANT_ID = env("KESSAI_APPLEPAY_MERCHANT_ID", "merchant.jp.madoguchi.demo")
KESSAI_APPLEPAY_DISPLAY_NAME = env("KESSAI_APPLEPAY_DISPLAY_NAME", "オンライン決済")
KESSAI_APPLEPAY_ROOT_CERT = env("KESSAI_APPLEPAY_ROOT_CERT", "")
KESSAI_APPLEPAY_PROCESSING_KEY = env("KESSAI_APPLEPAY_PROCESSING_KEY", "")
KESSAI_APPLEPAY_IDENTITY_CERT = env("KESSAI_APPLEPAY_IDENTITY_CERT", "")
KESSAI_APPLEPAY_IDENTITY_KEY = env("KESSAI_APPLEPAY_IDENTITY_KEY", "")
# Hosts the browser-supplied validation URL may point at (Apple's gateways).
KESSAI_APPLEPAY_VALIDATION_HOSTS = env(
    "KESSAI_APPLEPAY_VALIDATION_HOSTS", "apple-pay-gateway.apple.com,cn-apple-pay-gateway.apple.com"
).split(",")
KESSAI_APPLEPAY_ALLOW_HTTP = env("KESSAI_APPLEPAY_ALLOW_HTTP", "") == "1"  # the local simulator
# Demo mode: the simulator's payment sheet for browsers without Apple Pay.
KESSAI_APPLEPAY_DEMO_URL = env("KESSAI_APPLEPAY_DEMO_URL", "")
if KESSAI_APPLEPAY_PROCESSING_KEY:
    KESSAI_PROVIDERS.append("madoguchi.kessai.providers.applepay.provider.ApplePayProvider")
