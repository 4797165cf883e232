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


def database_from_url(url: str) -> dict[str, Any]:
    """``sqlite:///abs/path.sqlite3`` or ``postgres://user@host:port/name``."""
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
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ValueError(f"unsupported database URL scheme: {parts.scheme!r}")


PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
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
    "madoguchi.platform.surfaces.SurfaceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

COMMON_APPS = [
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "madoguchi.platform.sessions",
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
                ],
            },
        }
    ]


def logging_config() -> dict[str, Any]:
    # Request bodies are never logged: the card form posts card numbers.
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": env("MADOGUCHI_LOG_LEVEL", "INFO")},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }


def service_settings(*, service: str, surfaces: dict[str, str], apps: list[str]) -> dict[str, Any]:
    """The settings both services share; each service module adds its own."""
    prefix = service.upper()
    debug = env_bool("MADOGUCHI_DEBUG")
    secret_key = env(f"{prefix}_SECRET_KEY")
    if not secret_key:
        if not debug:
            raise RuntimeError(f"{prefix}_SECRET_KEY must be set (madoguchi up sets it).")
        secret_key = f"insecure-dev-key-{service}"
    surface = env("MADOGUCHI_SURFACE", next(iter(surfaces)))
    if surface not in surfaces:
        raise RuntimeError(f"MADOGUCHI_SURFACE must be one of {sorted(surfaces)}")
    secure = env_bool("MADOGUCHI_TLS")
    return {
        "DEBUG": debug,
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": env("MADOGUCHI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(","),
        "INSTALLED_APPS": COMMON_APPS + apps,
        "MIDDLEWARE": COMMON_MIDDLEWARE,
        "MADOGUCHI_SURFACES": surfaces,
        "MADOGUCHI_SURFACE": surface,
        "ROOT_URLCONF": surfaces[surface],
        "DATABASES": {
            "default": database_from_url(
                env(f"{prefix}_DATABASE_URL", f"sqlite:///{var_dir() / (service + '.sqlite3')}")
            )
        },
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        "TEMPLATES": templates(debug=debug),
        "PASSWORD_HASHERS": PASSWORD_HASHERS,
        "SESSION_ENGINE": "madoguchi.platform.sessions.store",
        "SESSION_COOKIE_NAME": f"{service}_{surface}_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "CSRF_COOKIE_SECURE": secure,
        "CSRF_COOKIE_NAME": f"{service}_{surface}_csrf",
        "SESSION_COOKIE_AGE": 60 * 60 * 2,
        "SECURE_CSP": STRICT_CSP,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_HSTS_SECONDS": 31536000 if secure else 0,
        "X_FRAME_OPTIONS": "DENY",
        "LANGUAGE_CODE": "ja",
        "TIME_ZONE": "Asia/Tokyo",
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "/static/",
        "STATIC_ROOT": env("MADOGUCHI_STATIC_ROOT", str(var_dir() / "static" / service)),
        "LOGGING": logging_config(),
        "MADOGUCHI_HTTP_TRANSPORT": "",
    }
