"""The admin on Kessai's console listener (``/admin/``): for payment
administrators, read-only, with the console's rule that no card data is
shown (no brand, no last four digits)."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

from madoguchi.kessai.payments.models import (
    Attempt,
    Notification,
    NotificationDelivery,
    Payment,
)
from madoguchi.platform.admin import OperatorAdminSite, ReadOnlyAdmin, account_fields
from madoguchi.platform.audit.models import AuditRecord

from .models import ConsoleAccount

site = OperatorAdminSite(
    name="console_admin",
    account_model=ConsoleAccount,
    may_use=lambda account: account.has_perm("kessai_console.administer"),
    login_url_name="console:login",
    title="オンライン決済 運用管理",
)


@admin.register(Payment, site=site)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "merchant", "reference", "amount", "status", "method", "paid_at")
    list_filter = ("status", "method", "merchant")
    search_fields = ("public_id", "reference")
    date_hierarchy = "created_at"


@admin.register(Attempt, site=site)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "payment", "method", "status", "decline_code", "created_at")
    list_filter = ("method", "status")
    search_fields = ("payment__public_id", "payment__reference")
    exclude = ("card_brand", "card_last4")  # never shown on an admin screen (seed 2(4)エ)


class DeliveryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = NotificationDelivery
    extra = 0
    can_delete = False
    fields = ("attempted_at", "response_status", "error", "duration_ms")
    readonly_fields = fields


@admin.register(Notification, site=site)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "merchant", "type", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "type", "merchant")
    search_fields = ("event_id", "payment__public_id")
    inlines = [DeliveryInline]


@admin.register(DBTaskResult, site=site)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "task_path", "status", "enqueued_at", "finished_at")
    list_filter = ("status", "task_path")


@admin.register(ConsoleAccount, site=site)
class ConsoleAccountAdmin(ReadOnlyAdmin):
    list_display = ("login_id", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fields = account_fields("role")


@admin.register(AuditRecord, site=site)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "actor", "event", "outcome", "origin", "resource")
    list_filter = ("outcome", "event")
    search_fields = ("actor", "resource")
    date_hierarchy = "occurred_at"
