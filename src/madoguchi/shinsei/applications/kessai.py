"""Shinsei's side of contract v1: an agency's credentials and its client."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from madoguchi.contract.client import KessaiClient
from madoguchi.platform.http import ssl_context, transport
from madoguchi.shinsei.procedures.models import Agency


def agency_api_key(agency: Agency) -> str:
    """The environment's key for this agency wins over the stored one."""
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return str(configured.get("api_key") or agency.kessai_api_key)


def agency_notification_secrets(agency: Agency) -> list[str]:
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return list(configured.get("notification_secrets") or agency.kessai_notification_secrets)


_CLIENT_CLASS: ContextVar[str] = ContextVar("kessai_client_class", default="background")


@contextmanager
def kessai_client_class(client_class: str) -> Iterator[None]:
    """Calls made inside declare ``client_class`` (see kessai_client)."""
    token = _CLIENT_CLASS.set(client_class)
    try:
        yield
    finally:
        _CLIENT_CLASS.reset(token)


def kessai_client(agency: Agency, *, client_class: str | None = None) -> KessaiClient:
    """``client_class="interactive"`` for calls a citizen's request makes, so
    that they draw on their own rate budget at Kessai, apart from the
    worker's (``background``, the default; docs/api.md#rate-limits)."""
    client_class = client_class or _CLIENT_CLASS.get()
    return KessaiClient(
        base_url=settings.SHINSEI_KESSAI_API_URL,
        api_key=agency_api_key(agency),
        transport=transport(),
        client_class=client_class,
        verify=ssl_context(),
    )
