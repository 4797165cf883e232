"""Django's admin for operators, on the internal listeners only (Shinsei's
staff listener, Kessai's console; never a public one), read-only.

The site sits behind everything the listener already has: the office-network
allowlist (middleware), the login with its second factor (``session_account``,
so the admin has no login of its own), and the audit log (refusals and, where
a service says so, every view of a record). Each service makes one
``OperatorAdminSite`` with its account model and the role that may use it.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, auth
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, reverse

from .accounts import AbstractAccount, password_change_owed, session_account
from .audit.services import audit_record

# Site views an operator does not need: nothing is searched across models,
# and no record has a public page.
_DROPPED_SITE_ROUTES = ("autocomplete", "view_on_site")


class OperatorAdminSite(admin.AdminSite):
    final_catch_all_view = False
    enable_nav_sidebar = False

    def __init__(
        self,
        *,
        name: str,
        account_model: type[AbstractAccount],
        may_use: Callable[[Any], bool],
        login_url_name: str,
        title: str,
    ) -> None:
        super().__init__(name=name)
        self.account_model = account_model
        self.may_use = may_use
        self.login_url_name = login_url_name
        self.site_header = self.site_title = self.index_title = title
        self.site_url = None

    def has_permission(self, request: HttpRequest) -> bool:
        account = session_account(request, self.account_model)
        if account is None:
            return False
        request.user = account  # type: ignore[assignment]
        return bool(self.may_use(account))

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            account = session_account(request, self.account_model)
            if account is not None and not self.may_use(account):
                audit_record(
                    actor=account.account_key,
                    event="admin.view",
                    outcome="denied",
                    request=request,
                    resource=request.path,
                )
                raise PermissionDenied
            if account is not None and account.password_change_due():
                namespace = self.login_url_name.partition(":")[0]
                return password_change_owed(request, account, namespace)
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # The listener's own login, with its lockout and second factor.
        next_url = request.GET.get("next", reverse(f"{self.name}:index"))
        return HttpResponseRedirect(f"{reverse(self.login_url_name)}?next={next_url}")

    def password_change(  # type: ignore[override]  # a redirect, not a page
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        # The listener's own page, with the policy and the history.
        return HttpResponseRedirect(
            reverse(self.login_url_name.replace(":login", ":password_change"))
        )

    def password_change_done(  # type: ignore[override]  # a redirect, not a page
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        return self.password_change(request)

    def logout(  # type: ignore[override]  # a redirect, not a page
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        auth.logout(request)
        return HttpResponseRedirect(reverse(self.login_url_name))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            url
            for url in super().get_urls()
            if getattr(url, "name", None) not in _DROPPED_SITE_ROUTES
        ]


def account_fields(*own: str) -> tuple[str, ...]:
    """What an account's admin page shows: never the password's hash or
    history, the TOTP secret or the recovery codes."""
    return (
        "login_id",
        "display_name",
        *own,
        "is_active",
        "must_change_password",
        "password_changed_at",
        "last_login",
        "created_at",
    )


# Fields no admin filters or searches on, whatever a ModelAdmin declares:
# a filter answers "is there a row whose value starts with …", which rebuilds
# the value one character at a time.
SECRET_FIELDS = frozenset(
    {
        "password",
        "password_history",
        "inquiry_password",
        "card_brand",
        "card_last4",
        "data_key",
        "answers_sealed",
        "key",
        "secret",
        "token",
        "notification_secret",
        "previous_notification_secret",
        "secret_hash",
        "key_hash",
        "sbps_hash_key",
        "api_key",
    }
)

# What the filters of the sidebar and the date drill-down send (Django's
# list filters and date_hierarchy), after the declared field's path.
FILTER_LOOKUPS = frozenset(
    {"", "exact", "isnull", "id__exact", "gte", "lt", "year", "month", "day"}
)


def declared_lookup_fields(model_admin: admin.ModelAdmin[Any]) -> set[str]:
    """The field paths a ModelAdmin filters on: its list_filter fields (a
    name, or a (name, filter class) pair) and its date_hierarchy."""
    fields = set()
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            fields.add(entry)
        elif isinstance(entry, tuple | list):
            fields.add(str(entry[0]))
        # a SimpleListFilter class has its own parameter_name, not a lookup
    if model_admin.date_hierarchy:
        fields.add(model_admin.date_hierarchy)
    return fields


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Operators look; changes go through the services and their screens.

    Only the declared filters are accepted as lookups in the URL (Django
    allows any lookup on a model's own fields, ``?password__startswith=``
    included), never one touching a secret field; and every list looked at
    is audited, with the filters it was given."""

    actions = None  # no bulk actions (Django's "delete selected" included)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if SECRET_FIELDS.intersection(lookup.split("__")):
            return False
        for field in declared_lookup_fields(self):
            if lookup == field or (
                lookup.startswith(field + "__") and lookup[len(field) + 2 :] in FILTER_LOOKUPS
            ):
                return True
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        try:
            response = super().changelist_view(request, extra_context)
        except SuspiciousOperation:  # a lookup refused above: 400, and on the record
            self._audit_list(request, "denied")
            raise
        self._audit_list(request, "success" if response.status_code < 400 else "failure")
        return response

    def _audit_list(self, request: HttpRequest, outcome: str) -> None:
        audit_record(
            actor=request.user.account_key,  # type: ignore[union-attr]
            event="admin.list",
            outcome=outcome,
            request=request,
            resource=self.model._meta.label_lower,
            detail={"query": {key: request.GET.getlist(key) for key in request.GET}},
        )

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def has_module_permission(self, request: HttpRequest) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        # No add or delete pages at all (read-only).
        return [
            url
            for url in super().get_urls()
            if not str(url.name or "").endswith(("_add", "_delete"))
        ]


class AuditedReadOnlyAdmin(ReadOnlyAdmin):
    """Every look at one record (personal data) is written to the audit log."""

    audit_event = "admin.view"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None:
            audit_record(
                actor=request.user.account_key,  # type: ignore[union-attr]
                event=self.audit_event,
                request=request,
                resource=self.audit_resource(obj),
                detail={"via": "admin"},
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def audit_resource(self, obj: Any) -> str:
        return f"{obj._meta.model_name}:{obj.pk}"
