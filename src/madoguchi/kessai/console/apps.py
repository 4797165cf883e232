from django.apps import AppConfig

from madoguchi.platform.roles import role_groups_after_migrate


class ConsoleConfig(AppConfig):
    name = "madoguchi.kessai.console"
    label = "kessai_console"
    verbose_name = "管理画面"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        role_groups_after_migrate(self, model_name="ConsoleAccount", kind="console")
