"""Roles as Django groups and permissions.

Each service declares its permissions in its account model's ``Meta`` and
which of them each role holds (``ROLE_PERMISSIONS``); every role is a group
(``"<account kind>:<role>"``) holding those permissions, made by a data
migration and kept up to date after every ``migrate`` (``post_migrate``, as
Django makes the permissions themselves). The account's ``role`` names its
group: one column, so a 異動 is one conditional update and ends every session
(the role is part of the session binding). Views ask ``has_perm``.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db.models.signals import post_migrate


def role_group_name(kind: str, role: str) -> str:
    return f"{kind}:{role}"


def role_groups_ensure(
    apps: Apps,
    *,
    app_label: str,
    model_name: str,
    kind: str,
    role_permissions: Mapping[str, Sequence[str]],
) -> None:
    """Make (or bring up to date) one group per role with its permissions;
    ``apps`` is a migration's state or the project's registry."""
    content_type_model: Any = apps.get_model("contenttypes", "ContentType")
    permission_model: Any = apps.get_model("auth", "Permission")
    group_model: Any = apps.get_model("auth", "Group")
    names = dict(apps.get_model(app_label, model_name)._meta.permissions)
    content_type, _ = content_type_model.objects.get_or_create(
        app_label=app_label, model=model_name.lower()
    )
    for role, codenames in role_permissions.items():
        group, _ = group_model.objects.get_or_create(name=role_group_name(kind, role))
        group.permissions.set(
            permission_model.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": names[codename]}
            )[0]
            for codename in codenames
        )


def role_groups_after_migrate(app_config: AppConfig, *, model_name: str, kind: str) -> None:
    """From the app's ``ready``: after every migrate, as Django makes the
    permissions themselves, bring the groups in line with the model's
    ``ROLE_PERMISSIONS`` (a flushed test database, a role added later)."""

    def ensure(**kwargs: Any) -> None:
        model: Any = app_config.get_model(model_name)
        role_groups_ensure(
            kwargs.get("apps") or global_apps,
            app_label=app_config.label,
            model_name=model_name,
            kind=kind,
            role_permissions=model.ROLE_PERMISSIONS,
        )

    post_migrate.connect(
        ensure, sender=app_config, weak=False, dispatch_uid=f"role-groups:{app_config.label}"
    )
