"""Shinsei's side of contract v1: building the client for an agency."""

from django.conf import settings

from madoguchi.contract.client import KessaiClient
from madoguchi.platform.http import transport
from madoguchi.shinsei.procedures.models import Agency


def kessai_client(agency: Agency) -> KessaiClient:
    return KessaiClient(
        base_url=settings.SHINSEI_KESSAI_API_URL,
        api_key=agency.kessai_api_key,
        transport=transport(),
    )
