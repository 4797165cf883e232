"""Shinsei (電子申請・届出システム) settings. One process serves one surface."""

from django.utils.csp import CSP

from madoguchi.platform.conf import (
    COMMON_APPS,
    agency_credentials_from_env,
    caches_from_env,
    data_keyring_from_env,
    database_from_env,
    env,
    file_storage_from_env,
    logging_config,
    origin_of,
    secret_key_from_env,
    static_root,
    surface_from_env,
    var_dir,
)
from madoguchi.platform.settings_base import *  # noqa: F403

MADOGUCHI_SURFACES = {
    "shinsei_public": "madoguchi.shinsei.urls_public",
    "shinsei_staff": "madoguchi.shinsei.urls_staff",
}
MADOGUCHI_SURFACE = surface_from_env(MADOGUCHI_SURFACES)
ROOT_URLCONF = MADOGUCHI_SURFACES[MADOGUCHI_SURFACE]
MADOGUCHI_SERVICE = "shinsei"
LOGGING = logging_config(service=MADOGUCHI_SERVICE, surface=MADOGUCHI_SURFACE)
SECRET_KEY = secret_key_from_env("shinsei")
DATABASES = {"default": database_from_env("shinsei")}
CACHES = caches_from_env("shinsei")
STATIC_ROOT = static_root("shinsei")
SESSION_COOKIE_NAME = f"{MADOGUCHI_SURFACE}_session"
CSRF_COOKIE_NAME = f"{MADOGUCHI_SURFACE}_csrf"
INSTALLED_APPS = [
    *COMMON_APPS,
    "madoguchi.shinsei.procedures",
    "madoguchi.shinsei.staff",
    "madoguchi.shinsei.applications",
    "madoguchi.shinsei.gateways.sbps_link",
    "madoguchi.shinsei.privacy",
]

AUTH_USER_MODEL = "shinsei_staff.StaffAccount"
AUTHENTICATION_BACKENDS = ["madoguchi.shinsei.staff.backends.StaffBackend"]

LANGUAGES = [("ja", "日本語"), ("en", "English")]
MIDDLEWARE = [
    *MIDDLEWARE,  # noqa: F405
    "madoguchi.shinsei.applications.language.LanguageMiddleware",
]

SHINSEI_PUBLIC_URL = env("SHINSEI_PUBLIC_URL", "http://127.0.0.1:8000")
SHINSEI_KESSAI_API_URL = env("SHINSEI_KESSAI_API_URL", "http://127.0.0.1:8100/api")
SHINSEI_PAYMENT_DUE_DAYS = int(env("SHINSEI_PAYMENT_DUE_DAYS", "14"))
# How often each unfinished payment is checked with Kessai (lost notifications).
SHINSEI_RECONCILE_SECONDS = int(env("SHINSEI_RECONCILE_SECONDS", "600"))
# How many of those checks run at once (each bounded to a few seconds).
SHINSEI_RECONCILE_CONCURRENCY = int(env("SHINSEI_RECONCILE_CONCURRENCY", "8"))
SHINSEI_DRAFT_DAYS = int(env("SHINSEI_DRAFT_DAYS", "30"))
# Uploaded files live outside the database, in the storage "shinsei_files";
# the scanner hook takes the bytes and returns True when clean (point it at a
# clamd client in production).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "shinsei_files": file_storage_from_env("shinsei"),
}
# Files nobody submitted are removed after this many hours (a saved draft
# keeps its files until it expires); each browser session and each address
# may upload only so much that is not yet part of an application.
SHINSEI_ORPHAN_HOURS = int(env("SHINSEI_ORPHAN_HOURS", "6"))
SHINSEI_UPLOADS_PER_SESSION = int(env("SHINSEI_UPLOADS_PER_SESSION", "10"))
SHINSEI_UPLOAD_BYTES_PER_SESSION = int(env("SHINSEI_UPLOAD_BYTES_PER_SESSION", str(20 << 20)))
SHINSEI_UPLOADS_PER_ADDRESS_HOUR = int(env("SHINSEI_UPLOADS_PER_ADDRESS_HOUR", "60"))
# Key-encryption keys for the data keys that seal answers, files, notes and
# drafts (platform/envelope.py); rotate with `madoguchi shinsei data_keys_rotate`.
# Backups take the uploaded files along with the database (through the storage).
MADOGUCHI_BACKUP_STORAGES = ["shinsei_files"]
SHINSEI_DATA_KEYRING = data_keyring_from_env("shinsei")
SHINSEI_FILE_SCANNER = env(
    "SHINSEI_FILE_SCANNER", "madoguchi.shinsei.applications.files.scan_builtin"
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Emails to citizens: files under var/mail by default (madoguchi up); set
# SHINSEI_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the
# EMAIL_* settings in production.
_MAIL_BACKEND = env(
    "SHINSEI_EMAIL_BACKEND", "madoguchi.platform.private_files.PrivateFileEmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": _MAIL_BACKEND,
        "OPTIONS": (
            {"file_path": env("SHINSEI_EMAIL_FILE_PATH", str(var_dir() / "mail"))}
            if _MAIL_BACKEND.endswith(("filebased.EmailBackend", "PrivateFileEmailBackend"))
            else {
                "host": env("SHINSEI_EMAIL_HOST", "localhost"),
                "port": int(env("SHINSEI_EMAIL_PORT", "25")),
            }
        ),
    }
}
SHINSEI_MAIL_FROM = env("SHINSEI_MAIL_FROM", "shinsei-noreply@city.fujisawa.example")

# Payment gateways an agency can choose (shinsei/gateways); which one each
# agency uses is configuration: SHINSEI_PAYMENT_GATEWAY__<CODE>, or its row.
SHINSEI_PAYMENT_GATEWAYS = [
    "madoguchi.shinsei.gateways.kessai.gateway.KessaiGateway",
    "madoguchi.shinsei.gateways.sbps_link.gateway.SbpsLinkGateway",
]
# SBPS's link type: the purchase URL the citizen's browser posts to (SBPS names
# it per contract), and the API for the status inquiry (決済結果参照).
SHINSEI_SBPS_PURCHASE_URL = env(
    "SHINSEI_SBPS_PURCHASE_URL", "http://127.0.0.1:8202/f01/FepBuyInfoReceive.do"
)
SHINSEI_SBPS_API_URL = env("SHINSEI_SBPS_API_URL", "http://127.0.0.1:8202")
SHINSEI_SBPS_PAY_METHODS = env("SHINSEI_SBPS_PAY_METHODS", "credit3d2,paypay,applepay").split(",")

# 「支払う」 posts to Shinsei, which redirects to Kessai's payment page; browsers
# apply form-action to that redirect, so Kessai's origin must be allowed. The
# page that posts to SBPS adds SBPS's origin for itself only (csp_override).
SECURE_CSP = {
    **SECURE_CSP,  # noqa: F405
    "form-action": [CSP.SELF, origin_of(SHINSEI_KESSAI_API_URL)],
}

# Agencies' Kessai credentials from the environment (production); where an
# agency has none there, the values stored on its row (the embedded default).
SHINSEI_AGENCY_CREDENTIALS = agency_credentials_from_env()

MADOGUCHI_METRICS_COLLECTORS = ["madoguchi.shinsei.applications.metrics.ShinseiCollector"]

MADOGUCHI_PERIODIC = [
    ("madoguchi.shinsei.applications.services.applications_sweep", 60.0),
    ("madoguchi.shinsei.applications.services.payments_reconcile_periodic", 60.0),
    ("madoguchi.shinsei.applications.services.leftovers_sweep", 900.0),
    ("madoguchi.shinsei.privacy.services.retention_sweep_periodic", 86400.0),
    ("madoguchi.shinsei.applications.refunds.refunds_sweep", 60.0),
]
