"""Shinsei (電子申請・届出システム) settings. One process serves one surface."""

from django.utils.csp import CSP

from madoguchi.platform.conf import (
    COMMON_APPS,
    database_from_env,
    env,
    origin_of,
    secret_key_from_env,
    static_root,
    surface_from_env,
)
from madoguchi.platform.settings_base import *  # noqa: F403

MADOGUCHI_SURFACES = {
    "shinsei_public": "madoguchi.shinsei.urls_public",
    "shinsei_staff": "madoguchi.shinsei.urls_staff",
}
MADOGUCHI_SURFACE = surface_from_env(MADOGUCHI_SURFACES)
ROOT_URLCONF = MADOGUCHI_SURFACES[MADOGUCHI_SURFACE]
SECRET_KEY = secret_key_from_env("shinsei")
DATABASES = {"default": database_from_env("shinsei")}
STATIC_ROOT = static_root("shinsei")
SESSION_COOKIE_NAME = f"{MADOGUCHI_SURFACE}_session"
CSRF_COOKIE_NAME = f"{MADOGUCHI_SURFACE}_csrf"
INSTALLED_APPS = [
    *COMMON_APPS,
    "madoguchi.shinsei.procedures",
    "madoguchi.shinsei.staff",
    "madoguchi.shinsei.applications",
]

SHINSEI_PUBLIC_URL = env("SHINSEI_PUBLIC_URL", "http://127.0.0.1:8000")
SHINSEI_KESSAI_API_URL = env("SHINSEI_KESSAI_API_URL", "http://127.0.0.1:8100/api")
SHINSEI_PAYMENT_DUE_DAYS = int(env("SHINSEI_PAYMENT_DUE_DAYS", "14"))

# 「支払う」 posts to Shinsei, which redirects to Kessai's payment page; browsers
# apply form-action to that redirect, so Kessai's origin must be allowed.
SECURE_CSP = {
    **SECURE_CSP,  # noqa: F405
    "form-action": [CSP.SELF, origin_of(SHINSEI_KESSAI_API_URL)],
}

MADOGUCHI_PERIODIC = [
    ("madoguchi.shinsei.applications.services.applications_sweep", 60.0),
]
