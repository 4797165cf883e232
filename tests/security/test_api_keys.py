"""Merchant API keys: recognisable prefix and checksum, stored hashed, shown
once, rotatable with an overlap (GOV.UK Pay's format, PCI DSS 8.3.2)."""

import time
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


def _get_payments(api_client: Client, raw_key: str) -> int:
    response = api_client.get("/api/v1/payments", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return int(response.status_code)


def test_a_key_revoked_by_another_process_stops_working_within_the_cache_lifetime(
    demo: Any, api_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each process remembers a key it has seen for MADOGUCHI_API_KEY_CACHE_SECONDS
    # (10): a revocation made elsewhere reaches this process at most that late
    # (docs/security.md).
    raw = demo["merchants"]["mayor"]["api_key"]
    assert _get_payments(api_client, raw) == 200
    ApiKey.objects.filter(merchant__code="mayor").update(revoked_at=timezone.now())
    assert _get_payments(api_client, raw) == 200  # still within the lifetime here

    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + 10)

    assert _get_payments(api_client, raw) == 401


def test_a_contract_ended_by_another_process_stops_its_keys_within_the_cache_lifetime(
    demo: Any, api_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = demo["merchants"]["mayor"]["api_key"]
    assert _get_payments(api_client, raw) == 200
    Merchant.objects.filter(code="mayor").update(is_active=False)

    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + 10)

    assert _get_payments(api_client, raw) == 401


def test_the_end_of_a_rotations_overlap_is_exact_even_for_a_remembered_key(
    demo: Any, api_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = Merchant.objects.get(code="mayor")
    old = demo["merchants"]["mayor"]["api_key"]
    api_key_rotate(merchant=merchant, actor="console:1", overlap=timedelta(seconds=5))
    assert _get_payments(api_client, old) == 200  # remembered, with its end

    # The overlap is over; the cache's own lifetime is not.
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(seconds=6))

    assert _get_payments(api_client, old) == 401


def test_revoking_in_this_process_forgets_the_key_at_once(demo: Any, api_client: Client) -> None:
    raw = demo["merchants"]["mayor"]["api_key"]
    assert _get_payments(api_client, raw) == 200
    for key in ApiKey.objects.filter(merchant__code="mayor"):
        api_key_revoke(api_key=key)
    assert _get_payments(api_client, raw) == 401
