from django.apps import AppConfig
from django.core.checks import Tags, register

from madoguchi.platform.production import PRODUCTION_TAG


class PaymentsConfig(AppConfig):
    name = "madoguchi.kessai.payments"
    label = "kessai_payments"
    verbose_name = "決済"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import kessai_fails_closed

        register(kessai_fails_closed, PRODUCTION_TAG, Tags.security)
