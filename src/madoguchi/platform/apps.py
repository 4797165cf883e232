from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "madoguchi.platform"
    label = "madoguchi_platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from .logs import connect_task_logging

        connect_task_logging()
