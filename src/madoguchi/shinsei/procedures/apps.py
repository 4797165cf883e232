from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "madoguchi.shinsei.procedures"
    label = "shinsei_procedures"
    verbose_name = "手続"
    default_auto_field = "django.db.models.BigAutoField"
