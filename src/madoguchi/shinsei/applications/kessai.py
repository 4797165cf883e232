"""Shinsei's side of contract v1: an agency's credentials and its client.

Every call to Kessai goes through ``BackoffTransport``: after Kessai answers
429, the agency's calls pause for the ``Retry-After`` it gave (Shinsei shares
the agency key's per-minute budget with the agency's other clients, so it
stops asking rather than spending the budget on refusals), and fail at once
with ``KessaiBackingOff`` meanwhile, which callers treat like Kessai being
unreachable (tasks retry later; the citizen is told to try again shortly).
The pause is kept in the cache; without the cache there is no pause: calls go
to Kessai, whose own limit answers 429 if it must.
"""

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings
from django.core.cache import cache

from madoguchi.contract.client import DEFAULT_TIMEOUT, KessaiClient
from madoguchi.platform.cache import CACHE_ERRORS
from madoguchi.platform.http import add_request_id, ssl_context, transport
from madoguchi.shinsei.procedures.models import Agency

# Without a usable Retry-After, pause for Kessai's window (a minute); never
# longer than five minutes on Kessai's word.
DEFAULT_BACKOFF_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 300.0


class KessaiBackingOff(httpx.TransportError):
    """Not sent: Kessai asked us to wait (429 with Retry-After) and the wait is not over."""


def _backoff_key(agency_code: str) -> str:
    return f"shinsei:kessai-backoff:{agency_code}"


def retry_after_seconds(header: str | None) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if header:
        try:
            seconds = float(header)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(header).timestamp() - time.time()
            except (TypeError, ValueError):
                seconds = DEFAULT_BACKOFF_SECONDS
        return min(max(seconds, 1.0), MAX_BACKOFF_SECONDS)
    return DEFAULT_BACKOFF_SECONDS


def _paused_until(key: str) -> float | None:
    try:
        until = cache.get(key)
    except CACHE_ERRORS:
        return None  # no cache, no pause known: ask Kessai
    return None if until is None else float(until)


def kessai_backing_off(agency: Agency) -> bool:
    until = _paused_until(_backoff_key(agency.code))
    return until is not None and until > time.time()


class BackoffTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, agency_code: str) -> None:
        self.inner = inner
        self.key = _backoff_key(agency_code)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        until = _paused_until(self.key)
        if until is not None and until > time.time():
            raise KessaiBackingOff("Kessai asked to wait (429)", request=request)
        response = self.inner.handle_request(request)
        if response.status_code == 429:
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            # Without the cache the 429 itself is still answered to the caller.
            with contextlib.suppress(*CACHE_ERRORS):
                cache.set(self.key, time.time() + seconds, timeout=int(seconds) + 1)
        return response

    def close(self) -> None:
        self.inner.close()


def agency_api_key(agency: Agency) -> str:
    """The environment's key for this agency wins over the stored one."""
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return str(configured.get("api_key") or agency.kessai_api_key)


def agency_notification_secrets(agency: Agency) -> list[str]:
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return list(configured.get("notification_secrets") or agency.kessai_notification_secrets)


_CLIENT_CLASS: ContextVar[str] = ContextVar("kessai_client_class", default="background")


def current_client_class() -> str:
    """Whose call is being made: ``interactive`` (a citizen waits for it)
    or ``background`` (the worker and the sweeps)."""
    return _CLIENT_CLASS.get()


@contextmanager
def kessai_client_class(client_class: str) -> Iterator[None]:
    """Calls made inside declare ``client_class`` (see kessai_client)."""
    token = _CLIENT_CLASS.set(client_class)
    try:
        yield
    finally:
        _CLIENT_CLASS.reset(token)


def kessai_client(
    agency: Agency,
    *,
    client_class: str | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> KessaiClient:
    """``client_class="interactive"`` for calls a citizen's request makes, so
    that they draw on their own rate budget at Kessai, apart from the
    worker's (``background``, the default; docs/api.md#rate-limits)."""
    client_class = client_class or _CLIENT_CLASS.get()
    api_key = agency_api_key(agency)
    key = (
        agency.code,
        api_key,
        client_class,
        tuple(sorted(timeout.as_dict().items())),
        settings.SHINSEI_KESSAI_API_URL,
        getattr(settings, "MADOGUCHI_HTTP_TRANSPORT", ""),
    )
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _SharedKessaiClient(
                    timeout=timeout,
                    base_url=settings.SHINSEI_KESSAI_API_URL,
                    api_key=api_key,
                    transport=BackoffTransport(
                        transport() or httpx.HTTPTransport(verify=ssl_context()), agency.code
                    ),
                    client_class=client_class,
                    verify=ssl_context(),
                    event_hooks={"request": [add_request_id]},
                )
    return client


class _SharedKessaiClient(KessaiClient):
    """Built once per agency, key, caller class and timeout in a process and
    kept open: the three layers (client, back-off, transport) are not built
    again for every call, and the connections to Kessai are kept alive and
    reused (httpx's pool is safe to share between threads). Callers still
    write ``with kessai_client(agency) as client``: leaving it closes nothing."""

    def close(self) -> None:
        return None


_clients: dict[tuple[object, ...], KessaiClient] = {}
_clients_lock = threading.Lock()
