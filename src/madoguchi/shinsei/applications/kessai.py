"""Shinsei's side of contract v1: an agency's credentials and its client."""

import httpx
from django.conf import settings

from madoguchi.contract.client import DEFAULT_TIMEOUT, KessaiClient
from madoguchi.platform.http import add_request_id, transport
from madoguchi.shinsei.procedures.models import Agency


def agency_api_key(agency: Agency) -> str:
    """The environment's key for this agency wins over the stored one."""
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return str(configured.get("api_key") or agency.kessai_api_key)


def agency_notification_secrets(agency: Agency) -> list[str]:
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return list(configured.get("notification_secrets") or agency.kessai_notification_secrets)


def kessai_client(agency: Agency, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> KessaiClient:
    return KessaiClient(
        timeout=timeout,
        base_url=settings.SHINSEI_KESSAI_API_URL,
        api_key=agency_api_key(agency),
        transport=transport(),
        event_hooks={"request": [add_request_id]},
    )
