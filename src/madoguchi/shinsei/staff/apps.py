from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

from madoguchi.platform.roles import role_groups_ensure


class StaffConfig(AppConfig):
    name = "madoguchi.shinsei.staff"
    label = "shinsei_staff"
    verbose_name = "職員"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After every migrate, as Django makes permissions: a flushed test
        # database and a role added since the data migration get their groups.
        post_migrate.connect(_role_groups, sender=self)


def _role_groups(**kwargs: Any) -> None:
    from .models import StaffAccount

    role_groups_ensure(
        kwargs.get("apps") or apps,
        app_label="shinsei_staff",
        model_name="StaffAccount",
        kind="staff",
        role_permissions=StaffAccount.ROLE_PERMISSIONS,
    )
