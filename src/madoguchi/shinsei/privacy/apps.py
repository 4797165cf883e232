from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "madoguchi.shinsei.privacy"
    label = "shinsei_privacy"
    verbose_name = "個人情報の管理"
    default_auto_field = "django.db.models.BigAutoField"
