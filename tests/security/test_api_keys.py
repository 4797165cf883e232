"""Merchant API keys: recognisable prefix and checksum, stored hashed, shown
once, rotatable with an overlap (GOV.UK Pay's format, PCI DSS 8.3.2)."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.kessai.merchants.models import ApiKey, Merchant
from madoguchi.kessai.merchants.services import (
    api_key_authenticate,
    api_key_checksum_ok,
    api_key_issue,
    api_key_revoke,
    api_key_rotate,
)
from madoguchi.platform.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_keys_have_a_prefix_and_a_checksum_and_only_the_hash_is_stored(demo: Any) -> None:
    merchant = Merchant.objects.get(code="mayor")

    issued = api_key_issue(merchant=merchant)

    raw = issued.raw_key
    assert raw.startswith("kessai_")
    assert len(raw) == len("kessai_") + 52 + 7
    assert api_key_checksum_ok(raw)
    stored = ApiKey.objects.get(pk=issued.api_key.pk)
    assert raw not in (stored.prefix, stored.key_hash)
    assert stored.prefix == raw[:16]
    assert api_key_authenticate(raw) == merchant


def test_a_mistyped_key_fails_the_checksum(demo: Any) -> None:
    raw = api_key_issue(merchant=Merchant.objects.get(code="mayor")).raw_key
    body = raw[len("kessai_") :]
    typo = "kessai_" + ("b" if body[0] != "b" else "c") + body[1:]

    assert not api_key_checksum_ok(typo)
    assert api_key_authenticate(typo) is None


def test_rotation_keeps_the_old_key_working_for_the_overlap_only(demo: Any) -> None:
    merchant = Merchant.objects.get(code="mayor")
    old = demo["merchants"]["mayor"]["api_key"]

    new = api_key_rotate(merchant=merchant, actor="console:1", overlap=timedelta(days=7))

    assert api_key_authenticate(old) == merchant
    assert api_key_authenticate(new.raw_key) == merchant
    # The overlap ends.
    ApiKey.objects.exclude(pk=new.api_key.pk).filter(merchant=merchant).update(
        revoked_at=timezone.now() - timedelta(seconds=1)
    )
    assert api_key_authenticate(old) is None
    assert api_key_authenticate(new.raw_key) == merchant
    record = AuditRecord.objects.get(event="api_key.rotate")
    assert (record.actor, record.resource) == ("console:1", "merchant:mayor")
    assert new.raw_key not in str(record.detail)


def test_revoking_ends_a_key_at_once_even_during_an_overlap(demo: Any) -> None:
    merchant = Merchant.objects.get(code="mayor")
    api_key_rotate(merchant=merchant, actor="console:1")
    old = ApiKey.objects.filter(merchant=merchant).order_by("id").first()
    assert old is not None

    api_key_revoke(api_key=old)

    assert api_key_authenticate(demo["merchants"]["mayor"]["api_key"]) is None


def test_the_api_refuses_a_revoked_key_with_401(demo: Any, api_client: Client) -> None:
    for key in ApiKey.objects.filter(merchant__code="mayor"):
        api_key_revoke(api_key=key)
    response = api_client.get(
        "/api/v1/payments",
        HTTP_AUTHORIZATION=f"Bearer {demo['merchants']['mayor']['api_key']}",
    )
    assert response.status_code == 401
