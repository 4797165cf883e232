from django.apps import AppConfig
from django.db.backends.signals import connection_created


class PlatformConfig(AppConfig):
    name = "madoguchi.platform"
    label = "madoguchi_platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from .logs import connect_task_logging
        from .private_files import sqlite_files_private

        connect_task_logging()
        connection_created.connect(sqlite_files_private, dispatch_uid="madoguchi-sqlite-0600")
