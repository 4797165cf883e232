"""Outbound HTTP: every call has timeouts. Tests may plug in a transport that
routes to in-process apps (``MADOGUCHI_HTTP_TRANSPORT``, a dotted factory)."""

import ssl
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


def add_request_id(request: httpx.Request) -> None:
    """httpx request hook: pass the current request id to the other service."""
    from .logs import outbound_headers

    for name, value in outbound_headers().items():
        request.headers.setdefault(name, value)
