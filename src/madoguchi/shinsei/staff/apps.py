from django.apps import AppConfig

from madoguchi.platform.roles import role_groups_after_migrate


class StaffConfig(AppConfig):
    name = "madoguchi.shinsei.staff"
    label = "shinsei_staff"
    verbose_name = "職員"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        role_groups_after_migrate(self, model_name="StaffAccount", kind="staff")
