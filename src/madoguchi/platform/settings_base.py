"""Settings both services share. Each service's settings module star-imports
this and then names its own surfaces, apps, database and secrets."""

from madoguchi.platform.conf import (
    COMMON_APPS,
    COMMON_MIDDLEWARE,
    PASSWORD_HASHERS,
    PASSWORD_VALIDATORS,
    STRICT_CSP,
    env,
    env_bool,
    logging_config,
    templates,
)
from madoguchi.platform.network import parse_networks

DEBUG = env_bool("MADOGUCHI_DEBUG")
# An explicit demo (``madoguchi up`` sets it): simulators and demo keys are
# allowed. Without it (and without DEBUG) the process refuses to start with
# them (madoguchi.platform.production).
MADOGUCHI_DEMO = env_bool("MADOGUCHI_DEMO")
# Behind TLS (madoguchi up --tls, or a terminating proxy in production).
MADOGUCHI_TLS = env_bool("MADOGUCHI_TLS")
ALLOWED_HOSTS = env("MADOGUCHI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
INSTALLED_APPS = list(COMMON_APPS)
MIDDLEWARE = list(COMMON_MIDDLEWARE)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Periodic sweeps go on their own queue, below ordinary tasks in priority.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "sweeps"],
    }
}
TEMPLATES = templates(debug=DEBUG)
PASSWORD_HASHERS = PASSWORD_HASHERS
# The policy of platform/passwords.py: 12+ characters, letters and digits,
# not common, not the login ID or name, none of the last four.
AUTH_PASSWORD_VALIDATORS = PASSWORD_VALIDATORS

SESSION_ENGINE = "madoguchi.platform.sessions.store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = MADOGUCHI_TLS
SESSION_COOKIE_AGE = 60 * 60 * 2
CSRF_COOKIE_SECURE = MADOGUCHI_TLS
# Forms carry the token; no script ever needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# The listener's own styled 403 page (madoguchi.platform.errors).
CSRF_FAILURE_VIEW = "madoguchi.platform.errors.csrf_failure"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (docs/operations.md).
if env_bool("MADOGUCHI_TRUST_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_CSP = STRICT_CSP
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = 31536000 if MADOGUCHI_TLS else 0
SECURE_SSL_REDIRECT = MADOGUCHI_TLS
# Health checks come from the process manager over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
LOGGING = logging_config()

# The bearer token Prometheus sends to /metrics (empty: no token asked, the
# allowlist alone; production sets one, docs/operations.md).
MADOGUCHI_METRICS_TOKEN = env("MADOGUCHI_METRICS_TOKEN")

# Office terminals only (seed 2(6)ア(エ)): CIDR ranges per internal listener.
# The default admits this machine only; deployments list the office networks.
MADOGUCHI_ALLOWED_NETWORKS = {
    "shinsei_staff": parse_networks(env("MADOGUCHI_STAFF_NETWORKS", "127.0.0.0/8,::1/128")),
    "kessai_console": parse_networks(env("MADOGUCHI_CONSOLE_NETWORKS", "127.0.0.0/8,::1/128")),
}
# Listeners whose logins count failures in the cache (lockouts): without the
# cache they answer logins 503, and their /readyz says "not ready". The public
# listeners stay ready (citizens keep applying and paying) and report the
# cache as degraded (docs/operations.md, "When the cache is away").
MADOGUCHI_READY_NEEDS_CACHE = ("shinsei_staff", "kessai_console")
# Behind a TLS-terminating proxy: the META key carrying the client address
# (e.g. "HTTP_X_FORWARDED_FOR"); empty means REMOTE_ADDR.
MADOGUCHI_CLIENT_IP_HEADER = env("MADOGUCHI_CLIENT_IP_HEADER")
# Passwords expire after this many days (the seed: about once a year).
MADOGUCHI_PASSWORD_MAX_AGE_DAYS = int(env("MADOGUCHI_PASSWORD_MAX_AGE_DAYS", "365"))
# django-otp's throttling of second-factor codes: after n failures in a row a
# device refuses every code for factor * 2**(n-1) seconds (platform/otp.py).
# The lockout (10 failures in 30 minutes, platform/accounts.py) still applies.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Sessions of staff and administrators end after this much inactivity.
MADOGUCHI_IDLE_TIMEOUT_SECONDS = int(env("MADOGUCHI_IDLE_TIMEOUT_SECONDS", "900"))
# Merchant API: requests per API key per minute.
MADOGUCHI_API_RATE_PER_MINUTE = int(env("MADOGUCHI_API_RATE_PER_MINUTE", "600"))

# Host -> surface; only the test settings serve several surfaces at once.
MADOGUCHI_SURFACE_HOSTS: dict[str, str] = {}
# Dotted path of an httpx transport factory; only tests set it.
MADOGUCHI_HTTP_TRANSPORT = ""
# (dotted path, interval in seconds): what the service's scheduler enqueues.
MADOGUCHI_PERIODIC: list[tuple[str, float]] = []
# A task RUNNING under a worker silent this long is run again (worker died).
MADOGUCHI_TASK_ORPHAN_SECONDS = int(env("MADOGUCHI_TASK_ORPHAN_SECONDS", "90"))
# Dotted paths of prometheus collectors for the service's own figures.
MADOGUCHI_METRICS_COLLECTORS: list[str] = []
# Django storages a backup takes along with the database (uploaded files).
MADOGUCHI_BACKUP_STORAGES: list[str] = []
