from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "madoguchi.kessai.console"
    label = "kessai_console"
    verbose_name = "管理画面"
    default_auto_field = "django.db.models.BigAutoField"
