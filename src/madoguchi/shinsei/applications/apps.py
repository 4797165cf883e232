from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "madoguchi.shinsei.applications"
    label = "shinsei_applications"
    verbose_name = "申請"
    default_auto_field = "django.db.models.BigAutoField"
