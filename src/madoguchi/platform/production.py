"""Production fails closed.

A process that is not in debug mode and not explicitly a demo
(``MADOGUCHI_DEMO=1``, which ``madoguchi up`` sets) refuses to start when it
would talk to a simulator, use a demo key or secret, or accept uploads
without a real scanner. The services register their own checks under
``PRODUCTION_TAG``; every management command runs them (the task worker and
``migrate`` included), and the web processes run them when the WSGI
application loads (``refuse_unsafe_start``), since granian runs no checks.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

PRODUCTION_TAG = "madoguchi_production"

# Names that never leave this machine or are reserved for tests and examples
# (RFC 2606, RFC 6761): a real acquirer or PayPay is never there.
_NOT_REAL_SUFFIXES = (".test", ".example", ".invalid", ".localhost", ".local")


def demo_mode() -> bool:
    return bool(getattr(settings, "MADOGUCHI_DEMO", False))


def is_production() -> bool:
    return not settings.DEBUG and not demo_mode()


def is_simulator_url(url: str) -> bool:
    """True for a URL on this machine or on a reserved test name: where
    ``madoguchi up`` starts the simulators, never a real provider."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host or host == "localhost" or host.endswith(_NOT_REAL_SUFFIXES):
        return True
    if host in ("example.com", "example.net", "example.org"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def refuse_unsafe_start() -> None:
    """Raise if a production check fails: the web process does not start."""
    errors = [m for m in run_checks(tags=[PRODUCTION_TAG]) if m.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "refusing to start (set MADOGUCHI_DEMO=1 for a demo):\n"
            + "\n".join(str(e) for e in errors)
        )
