import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import ApiKey, Merchant

API_KEY_PREFIX = "kessai_"


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def api_key_issue(*, merchant: Merchant) -> IssuedApiKey:
    raw = f"{API_KEY_PREFIX}{merchant.code}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        merchant=merchant, prefix=raw[:20], key_hash=ApiKey.hash_key(raw)
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw)


def api_key_authenticate(raw_key: str) -> Merchant | None:
    api_key = (
        ApiKey.objects.select_related("merchant")
        .filter(
            key_hash=ApiKey.hash_key(raw_key), revoked_at__isnull=True, merchant__is_active=True
        )
        .first()
    )
    return api_key.merchant if api_key else None


@transaction.atomic
def merchant_create(
    *, code: str, display_name: str, notification_url: str, notification_secret: str | None = None
) -> tuple[Merchant, IssuedApiKey]:
    merchant = Merchant.objects.create(
        code=code,
        display_name=display_name,
        notification_url=notification_url,
        notification_secret=notification_secret or secrets.token_urlsafe(32),
    )
    return merchant, api_key_issue(merchant=merchant)


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
