"""The admin on Shinsei's staff listener (``/admin/``): for the agency's
administrators, read-only, scoped to their agency like every staff page, and
every look at an application is audited as ``application.view``."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from madoguchi.platform.admin import (
    AuditedReadOnlyAdmin,
    OperatorAdminSite,
    ReadOnlyAdmin,
    account_fields,
)
from madoguchi.shinsei.staff.models import StaffAccount

from .models import Application
from .selectors import applications_for_staff

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

site = OperatorAdminSite(
    name="staff_admin",
    account_model=StaffAccount,
    may_use=lambda account: account.is_administrator,
    login_url_name="staff:login",
    title="電子申請 運用管理",
)


class OwnAgencyDepartmentFilter(admin.RelatedFieldListFilter):
    """A department filter offering the administrator's own agency's
    departments only (the rows are scoped the same way)."""

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, "str | _StrPromise"]]:
        agency_id = request.user.department.agency_id  # type: ignore[union-attr]
        return list(
            field.get_choices(include_blank=False, limit_choices_to={"agency_id": agency_id})
        )


@admin.register(Application, site=site)
class ApplicationAdmin(AuditedReadOnlyAdmin):
    audit_event = "application.view"
    list_display = ("reference", "procedure", "status", "payment_status", "submitted_at")
    list_filter = (
        "status",
        "payment_status",
        ("procedure__department", OwnAgencyDepartmentFilter),
    )
    search_fields = ("reference",)
    date_hierarchy = "submitted_at"
    # The inquiry password's hash is nobody's business, even read-only; the
    # answers are shown opened (they are stored sealed).
    exclude = ("inquiry_password",)
    readonly_fields = ("answers_opened",)

    @admin.display(description="回答")
    def answers_opened(self, obj: Application) -> str:
        return "、".join(f"{name}: {value}" for name, value in obj.answers.items())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return applications_for_staff(staff=request.user)  # type: ignore[arg-type]

    def audit_resource(self, obj: Any) -> str:
        return f"application:{obj.reference}"


@admin.register(StaffAccount, site=site)
class StaffAccountAdmin(ReadOnlyAdmin):
    list_display = ("login_id", "display_name", "department", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", ("department", OwnAgencyDepartmentFilter))
    search_fields = ("login_id", "display_name")
    fields = account_fields("department", "role")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffAccount]:
        agency_id = request.user.department.agency_id  # type: ignore[union-attr]
        return StaffAccount.objects.filter(department__agency_id=agency_id).select_related(
            "department"
        )
