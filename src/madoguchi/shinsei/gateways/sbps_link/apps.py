from django.apps import AppConfig


class SbpsLinkConfig(AppConfig):
    name = "madoguchi.shinsei.gateways.sbps_link"
    label = "shinsei_sbps_link"
    verbose_name = "SBPS リンク型"
    default_auto_field = "django.db.models.BigAutoField"
