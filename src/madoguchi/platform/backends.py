"""The authentication backend of each service's accounts (apart from
``accounts.py``: Django's ``ModelBackend`` reads ``AUTH_USER_MODEL`` when
imported, which the account models cannot wait for)."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest

from .accounts import AbstractAccount
from .roles import role_group_name


class AccountBackend[A: AbstractAccount](ModelBackend):
    """The authentication backend of one service's accounts: Django's
    ``get_user`` asks it for the account a session names, ``has_perm`` for
    its permissions. Passwords are checked by ``login_attempt`` (with the
    lockout), not here."""

    model: type[A]

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, **credentials: Any
    ) -> None:
        return None

    def get_user(self, user_id: int) -> A | None:  # type: ignore[override]
        return self.model._default_manager.filter(pk=user_id, is_active=True).first()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """Those of the account's role group and its own, in one query (the
        role names the group: platform/roles.py)."""
        # Only this service's accounts: both backends share the combined test process.
        if not isinstance(user_obj, self.model) or not user_obj.is_active or obj is not None:
            return set()
        cached: set[str] | None = getattr(user_obj, "_perm_cache", None)
        if cached is None:
            group = role_group_name(user_obj.account_kind, user_obj.role)
            rows = (
                Permission.objects.filter(
                    Q(group__name=group) | Q(pk__in=user_obj.user_permissions.values("pk"))
                )
                .values_list("content_type__app_label", "codename")
                .distinct()
            )
            cached = {f"{app}.{codename}" for app, codename in rows}
            # Where Django's ModelBackend keeps them: once per request.
            setattr(user_obj, "_perm_cache", cached)  # noqa: B010
        return set(cached)
