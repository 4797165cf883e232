"""Reads for staff pages. Scope is decided here, once: a department's staff
see their department; reviewers and administrators their whole agency."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.shinsei.staff.models import StaffAccount

from .models import Application, ApplicationEvent, RefundRequest, StoredFile


def _scope(staff: StaffAccount) -> Q:
    if staff.agency_wide:
        return Q(procedure__department__agency_id=staff.department.agency_id)
    return Q(procedure__department_id=staff.department_id)


def applications_for_staff(*, staff: StaffAccount) -> QuerySet[Application]:
    """Only the applications in the staff member's scope, newest first."""
    return (
        Application.objects.filter(_scope(staff))
        .select_related("procedure__department")
        .order_by("-submitted_at", "-id")
    )


def application_for_staff(*, staff: StaffAccount, reference: str) -> Application | None:
    return (
        applications_for_staff(staff=staff)
        .select_related("procedure__department__agency", "form_version")
        .filter(reference=reference)
        .first()
    )


def procedures_for_staff(*, staff: StaffAccount) -> QuerySet[Procedure]:
    if staff.agency_wide:
        scope = Q(department__agency_id=staff.department.agency_id)
    else:
        scope = Q(department_id=staff.department_id)
    return Procedure.objects.filter(scope).select_related("department").order_by("id")


def file_for_staff(*, staff: StaffAccount, reference: str, file_id: str) -> StoredFile | None:
    application = application_for_staff(staff=staff, reference=reference)
    if application is None:
        return None
    return application.files.filter(id=file_id).first()


@dataclass
class InboxFilter:
    status: str = ""
    payment_status: str = ""
    procedure_id: int | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    reference: str = ""
    overdue: bool = False
    match_nothing: bool = False


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def overdue_q(now: datetime) -> Q:
    """Unpaid after the due date: marked in the inbox and listed for staff."""
    return Q(payment_status=Application.PaymentStatus.UNPAID, payment_due_at__lt=now)


def applications_filtered(*, staff: StaffAccount, filters: InboxFilter) -> QuerySet[Application]:
    qs = applications_for_staff(staff=staff)
    if filters.match_nothing:
        return qs.none()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.payment_status:
        qs = qs.filter(payment_status=filters.payment_status)
    if filters.procedure_id:
        qs = qs.filter(procedure_id=filters.procedure_id)
    if filters.submitted_from:
        qs = qs.filter(submitted_at__gte=_day_start(filters.submitted_from))
    if filters.submitted_to:
        qs = qs.filter(submitted_at__lt=_day_start(filters.submitted_to) + timedelta(days=1))
    if filters.reference:
        qs = qs.filter(reference__startswith=filters.reference)
    if filters.overdue:
        qs = qs.filter(overdue_q(timezone.now()))
    return qs


EVENT_LABELS = {
    "submitted": "申請",
    "resubmitted": "再申請",
    "withdrawn": "取下げ",
    "accepted": "受理",
    "rejected": "却下",
    "returned": "差戻し",
    "completed": "処理完了",
    "paid": "決済完了",
    "paid_after_end": "取下げ・却下の後の入金",
    "payment_declined": "支払が不成立（申請者は支払い直せます）",
    "payment_cancel_requested": "決済の取消を依頼",
    "payment_mismatch": "請求と異なる決済の通知（反映していません）",
    "refund_requested": "返金の申請",
    "refund_approved": "返金の承認",
    "refund_declined": "返金の差戻し",
    "refund_sent": "返金を決済事業者へ送信",
    "refund_pending": "返金の処理中",
    "refund_succeeded": "返金完了",
    "refund_failed": "返金の失敗",
}
ACTOR_LABELS = {
    "citizen": "申請者",
    "kessai": "オンライン決済システム",
    "sbps_link": "SBPS（決済代行）",
}


def _event_note(event: ApplicationEvent) -> str:
    """What the history says after the event: the staff's reason as written,
    a refund's amount and reason by their labels, never a stored code."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    if event.type.startswith("refund_"):
        parts = []
        if isinstance(detail.get("amount"), int):
            parts.append(f"{detail['amount']:,}円")
        if detail.get("reason"):
            parts.append(str(dict(RefundRequest.Reason.choices).get(detail["reason"], "その他")))
        if event.type == "refund_failed":
            parts.append(RefundRequest.failure_label_of(str(detail.get("code") or "failed")))
        return "、".join(parts)
    if event.type in ("payment_declined", "payment_mismatch"):
        return ""
    return str(detail.get("reason", ""))


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    what: str
    who: str
    reason: str


def application_history(
    *, application: Application, events: list[ApplicationEvent] | None = None
) -> list[HistoryItem]:
    """The application's events in plain Japanese: what happened and who did
    it (a staff member by name), never the stored codes. ``events``: the
    application's events, where the caller has read them already."""
    if events is None:
        events = list(application.events.all())
    staff_ids = {
        int(e.actor.partition(":")[2])
        for e in events
        if e.actor.startswith("staff:") and e.actor.partition(":")[2].isdigit()
    }
    names = dict(StaffAccount.objects.filter(pk__in=staff_ids).values_list("pk", "display_name"))
    payment_labels = dict(Application.PaymentStatus.choices)
    items = []
    for event in events:
        if event.type in EVENT_LABELS:
            what = EVENT_LABELS[event.type]
        elif event.type.startswith("payment_"):
            status = payment_labels.get(event.type.removeprefix("payment_"), "")
            what = f"決済状況が「{status}」になりました" if status else "決済状況の変更"
        else:
            what = EVENT_LABELS.get(event.type, "記録")
        kind, _sep, key = event.actor.partition(":")
        if kind == "staff":
            who = str(names.get(int(key), "職員")) if key.isdigit() else "職員"
        else:
            who = ACTOR_LABELS.get(event.actor, "システム")
        items.append(HistoryItem(event.at, what, who, _event_note(event)))
    return items


def payment_outcome_pending(*, application: Application) -> bool:
    """Whether the citizen may have paid by the gateway's signed word, not yet
    confirmed: the status page shows 確認中 and no 支払う."""
    from madoguchi.shinsei.gateways.registry import gateway_for

    if application.payment_status != Application.PaymentStatus.UNPAID:
        return False
    return gateway_for(application).payment_outcome_pending(application=application)
