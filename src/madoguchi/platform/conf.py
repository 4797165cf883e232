"""Helpers for settings modules: environment, database URLs, common blocks."""

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.utils.csp import CSP


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def var_dir() -> Path:
    return Path(env("MADOGUCHI_VAR_DIR", "var")).resolve()


def database_from_url(url: str, *, pool: dict[str, Any] | None = None) -> dict[str, Any]:
    """``sqlite:///abs/path.sqlite3`` or ``postgres://user@host:port/name``.

    ``pool`` (PostgreSQL only): psycopg 3's connection pool options
    (``min_size``, ``max_size``, ``timeout``, ``reconnect_timeout``); each
    process then keeps its own pool instead of one persistent connection per
    thread."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parts.path),
            # WAL lets readers proceed while a writer commits; IMMEDIATE takes the
            # write lock at BEGIN so two writers queue instead of deadlocking.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    if parts.scheme in {"postgres", "postgresql"}:
        options: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if pool:
            options["pool"] = pool
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            # A pooled connection goes back to the pool after each request.
            "CONN_MAX_AGE": 0 if pool else 60,
            # Checked before use: a connection the server ended (a failover,
            # pg_terminate_backend) is replaced instead of failing the request
            # that draws it. With a pool Django hands this to psycopg's pool as
            # ``check=ConnectionPool.check_connection`` (one round trip when a
            # connection leaves the pool); without, Django checks a persistent
            # connection at the first query of each request.
            "CONN_HEALTH_CHECKS": True,
        }
    raise ValueError(f"unsupported database URL scheme: {parts.scheme!r}")


PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

# The account policy (platform/passwords.py), as Django password validators.
PASSWORD_VALIDATORS = [
    {"NAME": f"madoguchi.platform.passwords.{name}"}
    for name in (
        "LengthValidator",
        "LettersAndDigitsValidator",
        "CommonValidator",
        "IdentityValidator",
        "HistoryValidator",
    )
]

STRICT_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}

COMMON_MIDDLEWARE = [
    # One log line per request, with its request id (outermost: times everything).
    "madoguchi.platform.logs.RequestLogMiddleware",
    # Outermost, so it sees every answer (handler500's included) of the JSON API.
    "madoguchi.platform.api_errors.JsonApiErrorMiddleware",
    "madoguchi.platform.surfaces.SurfaceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # /healthz and /readyz on every listener, before the network allowlist
    # (probes come from the process manager or the proxy), with the headers above.
    "madoguchi.platform.health.HealthMiddleware",
    # Every audit record written while a request is served names its client
    # address (refusals of the allowlist below included).
    "madoguchi.platform.audit.services.AuditOriginMiddleware",
    # Office-network allowlist: refuses before sessions, CSRF or any view.
    "madoguchi.platform.network.AllowlistMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # request.user for the operators' admin (sessions find their account
    # through the service's backend); its messages.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

COMMON_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    # The operators' admin on the internal listeners (no autodiscovery: each
    # service registers on its own site).
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "madoguchi.platform.sessions",
    "madoguchi.platform.audit",
    "madoguchi.platform",
]


def templates(*, debug: bool) -> list[dict[str, Any]]:
    return [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {
                "debug": debug,
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.template.context_processors.csrf",
                    "django.template.context_processors.csp",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ],
            },
        }
    ]


def logging_config(service: str = "-", surface: str = "-") -> dict[str, Any]:
    """JSON lines by default (production); ``MADOGUCHI_LOG_FORMAT=plain`` for
    people reading a terminal (``madoguchi up`` sets it). Request bodies are
    never logged: the card form posts card numbers."""
    from .logs import logging_config as structured

    return structured(
        service=service,
        surface=surface,
        fmt=env("MADOGUCHI_LOG_FORMAT", "json"),
        level=env("MADOGUCHI_LOG_LEVEL", "INFO"),
    )


def surface_from_env(surfaces: dict[str, str]) -> str:
    surface = env("MADOGUCHI_SURFACE", next(iter(surfaces)))
    if surface not in surfaces:
        raise RuntimeError(f"MADOGUCHI_SURFACE must be one of {sorted(surfaces)}")
    return surface


def secret_key_from_env(service: str) -> str:
    secret_key = env(f"{service.upper()}_SECRET_KEY")
    if secret_key:
        return secret_key
    if env_bool("MADOGUCHI_DEBUG"):
        return f"insecure-dev-key-{service}"
    raise RuntimeError(f"{service.upper()}_SECRET_KEY must be set (madoguchi up sets it).")


def database_from_env(service: str) -> dict[str, Any]:
    """The service's database; on PostgreSQL with a connection pool sized by
    ``MADOGUCHI_DB_POOL_MIN_SIZE`` / ``MADOGUCHI_DB_POOL_MAX_SIZE`` (per
    process: at least the server's threads per process; 0 turns it off) and
    ``MADOGUCHI_DB_POOL_TIMEOUT`` (seconds a request waits for a connection)."""
    default = f"sqlite:///{var_dir() / (service + '.sqlite3')}"
    max_size = int(env("MADOGUCHI_DB_POOL_MAX_SIZE", "8"))
    pool = (
        {
            "min_size": min(max_size, int(env("MADOGUCHI_DB_POOL_MIN_SIZE", "2"))),
            "max_size": max_size,
            "timeout": float(env("MADOGUCHI_DB_POOL_TIMEOUT", "10")),
            # The pool retries a refused connection with a doubling delay until
            # this many seconds have passed, then gives up until a request asks
            # again (and retries at once). Short, so the first connection after
            # an outage is not made a doubling delay later (after a 20 s outage
            # the default 300 s let the pool wait 16 s past the return).
            "reconnect_timeout": float(env("MADOGUCHI_DB_POOL_RECONNECT_TIMEOUT", "5")),
        }
        if max_size > 0
        else None
    )
    return database_from_url(env(f"{service.upper()}_DATABASE_URL", default), pool=pool)


def caches_from_env(service: str) -> dict[str, Any]:
    """``MADOGUCHI_CACHE_URL``: ``redis://host:port/db`` in production (every
    process of a service shares the rate-limit and lockout counts), or
    ``locmem://`` (the default: one process per listener, as ``madoguchi up``
    runs them). Keys are prefixed with the service, so both services may
    share one Redis."""
    url = env("MADOGUCHI_CACHE_URL", "locmem://")
    scheme = urlsplit(url).scheme
    if scheme in {"redis", "rediss", "unix"}:
        backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # An unreachable or hung Redis fails a call within a second instead
            # of holding the request (platform/cache.py: what each use does then).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    elif scheme == "locmem":
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": service}
    else:
        raise ValueError(f"unsupported cache URL scheme: {scheme!r}")
    return {"default": {**backend, "KEY_PREFIX": service}}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def static_root(service: str) -> str:
    return env("MADOGUCHI_STATIC_ROOT", str(var_dir() / "static" / service))


def agency_credentials_from_env(environ: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Per-agency Kessai credentials from the environment, for production:
    ``SHINSEI_KESSAI_API_KEY__<CODE>`` and
    ``SHINSEI_KESSAI_NOTIFICATION_SECRETS__<CODE>`` (comma-separated, two
    during a rotation), where CODE is the agency code upper-cased with ``-``
    as ``_`` (``agri-committee`` -> ``AGRI_COMMITTEE``)."""
    return per_code_settings_from_env(AGENCY_SETTINGS_FROM_ENV, environ)


def per_code_settings_from_env(
    table: tuple[tuple[str, str], ...], environ: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """``PREFIX__<CODE>=value`` variables as ``{code: {setting: value}}``;
    a setting named ``*_secrets`` is a comma-separated list."""
    environ = dict(os.environ) if environ is None else environ
    found: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        for prefix, field in table:
            if name.startswith(prefix) and value:
                code = name.removeprefix(prefix).lower().replace("_", "-")
                parsed: Any = [s.strip() for s in value.split(",") if s.strip()]
                found.setdefault(code, {})[field] = (
                    parsed if field.endswith("_secrets") else value.strip()
                )
    return found


# Environment prefix -> per-agency setting. The payment gateway is ``kessai``
# (contract v1) or ``sbps_link`` (SBPS's link type, with SBPS's merchant id,
# service id, hash key and the hash's character set).
AGENCY_SETTINGS_FROM_ENV = (
    ("SHINSEI_KESSAI_API_KEY__", "api_key"),
    ("SHINSEI_KESSAI_NOTIFICATION_SECRETS__", "notification_secrets"),
    ("SHINSEI_PAYMENT_GATEWAY__", "payment_gateway"),
    ("SHINSEI_SBPS_MERCHANT_ID__", "sbps_merchant_id"),
    ("SHINSEI_SBPS_SERVICE_ID__", "sbps_service_id"),
    ("SHINSEI_SBPS_HASH_KEY__", "sbps_hash_key"),
    ("SHINSEI_SBPS_HASH_ENCODING__", "sbps_hash_encoding"),
)

# Kessai: which card connector a merchant's card payments go through
# (``sandbox``: the acquirer sandbox; ``sbps_api``: SBPS's API type) and the
# SBPS codes and hash key for it. Read by kessai/settings.py.
MERCHANT_SETTINGS_FROM_ENV = (
    ("KESSAI_CARD_CONNECTOR__", "card_connector"),
    ("KESSAI_SBPS_MERCHANT_ID__", "sbps_merchant_id"),
    ("KESSAI_SBPS_SERVICE_ID__", "sbps_service_id"),
    ("KESSAI_SBPS_HASH_KEY__", "sbps_hash_key"),
)


def data_keyring_from_env(service: str) -> Any:
    """The key-encryption keys (``<SERVICE>_DATA_KEYS``: ``id:base64,…``, the
    first wraps new data keys). ``madoguchi up`` generates one into
    var/secrets.json; production sets it from its secret store."""
    from .envelope import KEY_BYTES, keyring_parse

    value = env(f"{service.upper()}_DATA_KEYS")
    if value:
        return keyring_parse(value)
    if env_bool("MADOGUCHI_DEBUG"):
        import base64

        insecure = base64.urlsafe_b64encode(b"insecure-dev-kek".ljust(KEY_BYTES, b"-")).decode()
        return keyring_parse(f"dev:{insecure}")
    raise RuntimeError(f"{service.upper()}_DATA_KEYS must be set (madoguchi up sets it).")


def file_storage_from_env(service: str) -> dict[str, Any]:
    """Where uploaded files live, as a STORAGES entry: the local file system
    (files 0600, folders 0700) by default, or an S3-compatible bucket through
    django-storages with ``<SERVICE>_FILE_STORAGE=s3`` and the
    ``<SERVICE>_S3_*`` settings (so every web process sees the same files)."""
    prefix = service.upper()
    if env(f"{prefix}_FILE_STORAGE", "filesystem") == "s3":
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env(f"{prefix}_S3_BUCKET"),
                "endpoint_url": env(f"{prefix}_S3_ENDPOINT_URL") or None,
                "region_name": env(f"{prefix}_S3_REGION") or None,
                "access_key": env(f"{prefix}_S3_ACCESS_KEY_ID") or None,
                "secret_key": env(f"{prefix}_S3_SECRET_ACCESS_KEY") or None,
                "location": env(f"{prefix}_S3_PREFIX", f"{service}-files"),
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
                # Encrypted by the bucket as well; the bytes are sealed already.
                "object_parameters": {"ServerSideEncryption": "AES256"},
            },
        }
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env(f"{prefix}_FILE_DIR", str(var_dir() / f"{service}-files")),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
