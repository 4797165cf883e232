"""Outbound HTTP: every call has timeouts. Tests may plug in a transport that
routes to in-process apps (``MADOGUCHI_HTTP_TRANSPORT``, a dotted factory)."""

import ssl
import threading
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def transport() -> httpx.BaseTransport | None:
    factory = getattr(settings, "MADOGUCHI_HTTP_TRANSPORT", "")
    return import_string(factory)() if factory else None


@cache
def ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process, as httpx would make it (the CA
    bundle, or ``SSL_CERT_FILE``). Making one loads the whole CA bundle —
    about 40 ms of CPU — so a client per call must not make its own
    (it was most of a notification delivery's cost: docs/benchmarks.md)."""
    return httpx.create_ssl_context()


def make_client(base_url: str = "", **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", TIMEOUT)
    kwargs.setdefault("verify", ssl_context())
    return httpx.Client(base_url=base_url, transport=transport(), **kwargs)


_kept = threading.local()
KEPT_CLIENTS_PER_THREAD = 32


def kept_client(base_url: str = "", **kwargs: Any) -> httpx.Client:
    """A client of this thread kept open, for a party called again and again
    (the card acquirer; merchants' notification endpoints from the worker):
    its connections are kept alive and reused, where a client per call paid
    for a new connection (and a TLS handshake on HTTPS) every time and for
    building the client itself. Never close it (no ``with`` block)."""
    # The transport's factory too: a test that replaces it gets a new client.
    factory = getattr(settings, "MADOGUCHI_HTTP_TRANSPORT", "")
    key = (base_url, repr(sorted(kwargs.items())), factory, transport)
    clients: dict[tuple[object, ...], httpx.Client] = _kept.__dict__.setdefault("clients", {})
    client = clients.get(key)
    if client is None:
        if len(clients) >= KEPT_CLIENTS_PER_THREAD:
            for old in clients.values():
                old.close()
            clients.clear()
        client = clients[key] = make_client(base_url, **kwargs)
    return client


def add_request_id(request: httpx.Request) -> None:
    """httpx request hook: pass the current request id to the other service."""
    from .logs import outbound_headers

    for name, value in outbound_headers().items():
        request.headers.setdefault(name, value)
