import hashlib

from django.db import models


class Merchant(models.Model):
    """An agency (実施機関) that collects fees through Kessai: 市長, 農業委員会…"""

    code = models.SlugField("加盟店コード", unique=True)
    display_name = models.CharField("表示名", max_length=100)
    notification_url = models.URLField("通知先URL", max_length=500)
    # Kessai needs the raw secret to sign; it is the merchant's to verify with.
    notification_secret = models.CharField(max_length=128)
    # During rotation the previous secret also signs, so the merchant can switch over.
    previous_notification_secret = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Where this merchant's card payments go (providers/card/connectors.py):
    # the acquirer sandbox, or SBPS's API type with SBPS's codes and hash key.
    # The environment wins in production (KESSAI_CARD_CONNECTOR__<CODE> …).
    card_connector = models.CharField("カード決済の接続先", max_length=16, default="sandbox")
    sbps_merchant_id = models.CharField(max_length=5, blank=True)
    sbps_service_id = models.CharField(max_length=3, blank=True)
    sbps_hash_key = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "kessai_merchant"

    def __str__(self) -> str:
        return self.display_name

    def signing_secrets(self) -> list[str]:
        return [s for s in (self.notification_secret, self.previous_notification_secret) if s]


class ApiKey(models.Model):
    """A merchant API key. Only its SHA-256 is stored; the key is shown once.

    Keys are 256-bit random, so a fast hash is enough (there is nothing to
    brute-force); the prefix is kept to find the row and to recognise a key.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=24, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kessai_api_key"

    @staticmethod
    def hash_key(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()
