from typing import Any

from django.conf import settings
from django.db import migrations

from madoguchi.platform.audit.guard import guard_install, guard_remove


def install(apps: Any, schema_editor: Any) -> None:
    # Only the test settings turn this off, so that tests which empty the
    # database between runs can; the guard's own tests install it.
    if getattr(settings, "MADOGUCHI_AUDIT_APPEND_ONLY", True):
        guard_install(schema_editor.connection)


def remove(apps: Any, schema_editor: Any) -> None:
    guard_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("platform_audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
