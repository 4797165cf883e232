from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "madoguchi.shinsei.staff"
    label = "shinsei_staff"
    verbose_name = "職員"
    default_auto_field = "django.db.models.BigAutoField"
