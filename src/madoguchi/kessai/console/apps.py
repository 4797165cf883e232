from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

from madoguchi.platform.roles import role_groups_ensure


class ConsoleConfig(AppConfig):
    name = "madoguchi.kessai.console"
    label = "kessai_console"
    verbose_name = "管理画面"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After every migrate, as Django makes permissions: a flushed test
        # database and a role added since the data migration get their groups.
        post_migrate.connect(_role_groups, sender=self)


def _role_groups(**kwargs: Any) -> None:
    from .models import ConsoleAccount

    role_groups_ensure(
        kwargs.get("apps") or apps,
        app_label="kessai_console",
        model_name="ConsoleAccount",
        kind="console",
        role_permissions=ConsoleAccount.ROLE_PERMISSIONS,
    )
