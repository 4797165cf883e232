"""Kessai (オンライン決済システム) settings. One process serves one surface."""

from madoguchi.platform.conf import (
    COMMON_APPS,
    database_from_env,
    env,
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
SECRET_KEY = secret_key_from_env("kessai")
DATABASES = {"default": database_from_env("kessai")}
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

KESSAI_PUBLIC_URL = env("KESSAI_PUBLIC_URL", "http://127.0.0.1:8100")
KESSAI_ACQUIRER_URL = env("KESSAI_ACQUIRER_URL", "http://127.0.0.1:8200")
KESSAI_ACQUIRER_KEY = env("KESSAI_ACQUIRER_KEY", "acq_test_madoguchi")
KESSAI_CHECKOUT_LINK_SECONDS = int(env("KESSAI_CHECKOUT_LINK_SECONDS", "900"))
# Seed 2(6)イ(エ): after a contract ends, its payment history is kept this long.
KESSAI_HISTORY_RETENTION_DAYS = int(env("KESSAI_HISTORY_RETENTION_DAYS", str(5 * 366)))
KESSAI_PROVIDERS = ["madoguchi.kessai.providers.card.provider.CardProvider"]

MADOGUCHI_PERIODIC = [
    ("madoguchi.kessai.payments.tasks.notifications_sweep", 30.0),
    ("madoguchi.kessai.payments.tasks.payments_sweep", 30.0),
    ("madoguchi.kessai.history.tasks.history_sweep", 3600.0),
]
