from django.apps import AppConfig
from django.core.checks import Tags, register

from madoguchi.platform.production import PRODUCTION_TAG


class ApplicationsConfig(AppConfig):
    name = "madoguchi.shinsei.applications"
    label = "shinsei_applications"
    verbose_name = "申請"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import shinsei_fails_closed

        register(shinsei_fails_closed, PRODUCTION_TAG, Tags.security)
