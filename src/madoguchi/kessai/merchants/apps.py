from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "madoguchi.kessai.merchants"
    label = "kessai_merchants"
    verbose_name = "加盟店（実施機関）"
    default_auto_field = "django.db.models.BigAutoField"
