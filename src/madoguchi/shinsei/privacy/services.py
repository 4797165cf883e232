"""The end of an application's data: retention (delete or anonymise once the
procedure's 保存期間 has passed since the application ended), legal holds that
stop it, and the report every run writes. Deleting an application deletes
its row and with it the wrapped data key, so whatever was sealed under it
(answers, notes; files have their own keys and go with their rows) never
opens again, in backups included."""

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.private_files import mail_spool_delete
from madoguchi.shinsei.applications.emails import mail_spool_mark
from madoguchi.shinsei.applications.files import file_storage
from madoguchi.shinsei.applications.models import Application, ApplicationEvent
from madoguchi.shinsei.procedures.models import Procedure, RetentionAction
from madoguchi.shinsei.staff.models import StaffAccount

from .models import RetentionReport

Status = Application.Status
# An application has ended when nothing more can happen to it.
ENDED_STATUSES = [Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN]


class PrivacyError(Exception):
    pass


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def ended_before(cutoff: datetime) -> Q:
    """Ended (completed, rejected, withdrawn, or its payment expired) before ``cutoff``."""
    return Q(status__in=ENDED_STATUSES, decided_at__lt=cutoff) | Q(
        payment_status=Application.PaymentStatus.EXPIRED, payment_due_at__lt=cutoff
    )


def _traces_remove(application: Application) -> None:
    """What every disposal removes: files (bytes after commit), queued tasks
    naming the application or its mails, notes and mails."""
    storage_names = list(application.files.values_list("storage_name", flat=True))
    mail_ids = list(application.mails.values_list("pk", flat=True))
    DBTaskResult.objects.filter(
        Q(args_kwargs__kwargs__application_id=application.pk)
        | Q(args_kwargs__kwargs__mail_id__in=mail_ids)
    ).delete()
    application.files.all().delete()
    application.notes.all().delete()
    application.mails.all().delete()
    storage = file_storage()

    def delete_bytes() -> None:
        for name in storage_names:
            storage.delete(name)
        # The embedded default's mail spool keeps a copy of each mail sent.
        mail_spool_delete(marks=[mail_spool_mark(mail_id) for mail_id in mail_ids])

    transaction.on_commit(delete_bytes)


def application_erase(*, application: Application) -> None:
    """Delete the application and everything of it (the data key with the row)."""
    with transaction.atomic():
        _traces_remove(application)
        application.delete()


def application_anonymise(*, application: Application) -> None:
    """Keep procedure, dates, status, amounts and payment status for
    statistics; remove every answer, file, note, mail and reason, and the key."""
    with transaction.atomic():
        _traces_remove(application)
        ApplicationEvent.objects.filter(application=application).update(detail={})
        # 還付: amounts and dates stay (figures); the free text goes.
        application.refund_requests.update(reason_text="", decision_note="")
        Application.objects.filter(pk=application.pk).update(
            data_key="",
            answers_sealed=b"",
            inquiry_password="",
            reason="",
            anonymised_at=timezone.now(),
        )


@dataclass
class _Line:
    agency: str
    procedure: str
    rule: str
    action: str
    references: list[str]


def _due(procedure: Procedure, now: datetime) -> tuple[datetime, QuerySet[Application]]:
    """The procedure's cutoff and its applications past it (held ones included)."""
    cutoff = years_before(now, procedure.retention_years)
    return cutoff, Application.objects.filter(
        ended_before(cutoff), procedure=procedure, anonymised_at__isnull=True
    )


@dataclass(frozen=True)
class DueApplication:
    agency: str
    procedure: str
    reference: str
    action: str  # RetentionAction, or "held" where a legal hold keeps it
    cutoff: datetime


def retention_due(*, now: datetime | None = None) -> list[DueApplication]:
    """What a retention sweep run now would delete, anonymise or keep back
    for a legal hold (the dry run of ``retention_run``)."""
    now = now or timezone.now()
    found = []
    procedures = Procedure.objects.select_related("department__agency").order_by("id")
    for procedure in procedures:
        cutoff, due = _due(procedure, now)
        for reference, hold in due.order_by("reference").values_list("reference", "legal_hold"):
            found.append(
                DueApplication(
                    agency=procedure.department.agency.code,
                    procedure=procedure.name,
                    reference=reference,
                    action="held" if hold else procedure.retention_action,
                    cutoff=cutoff,
                )
            )
    return found


def retention_sweep(
    *, now: datetime | None = None, performed_by: str = "system"
) -> RetentionReport:
    """Apply every procedure's retention rule; write and return the report."""
    now = now or timezone.now()
    lines: list[_Line] = []
    # Per agency: each agency's administrators see only their own (selectors).
    held: list[dict[str, str]] = []
    procedures = Procedure.objects.select_related("department__agency").order_by("id")
    for procedure in procedures:
        cutoff, due = _due(procedure, now)
        held += [
            {"agency": procedure.department.agency.code, "reference": reference}
            for reference in due.exclude(legal_hold="").values_list("reference", flat=True)
        ]
        done: list[str] = []
        for application_id in due.filter(legal_hold="").values_list("pk", flat=True):
            with transaction.atomic():
                # Re-read under lock: a hold placed meanwhile wins.
                application = (
                    Application.objects.select_for_update()
                    .filter(pk=application_id, legal_hold="", anonymised_at__isnull=True)
                    .first()
                )
                if application is None:
                    continue
                if procedure.retention_action == RetentionAction.ANONYMISE:
                    application_anonymise(application=application)
                else:
                    application_erase(application=application)
                done.append(application.reference)
        if done:
            lines.append(
                _Line(
                    agency=procedure.department.agency.code,
                    procedure=procedure.name,
                    rule=f"{procedure.get_retention_years_display()}（{cutoff:%Y-%m-%d}より前に終了）",
                    action=procedure.retention_action,
                    references=done,
                )
            )
    # Sessions past their expiry may still hold an unfinished form or a 整理番号.
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return RetentionReport.objects.create(
        ran_at=now,
        performed_by=performed_by,
        deleted=sum(len(ln.references) for ln in lines if ln.action == RetentionAction.DELETE),
        anonymised=sum(
            len(ln.references) for ln in lines if ln.action == RetentionAction.ANONYMISE
        ),
        lines=[ln.__dict__ for ln in lines],
        held=sorted(held, key=lambda entry: entry["reference"]),
    )


def retention_sweep_periodic() -> None:
    retention_sweep()


def legal_hold_set(
    *,
    application: Application,
    staff: StaffAccount,
    reason: str,
    request: HttpRequest | None = None,
) -> None:
    """訴訟・不服申立て等: keep the application past its retention until cleared.
    An empty reason clears the hold."""
    if not staff.is_administrator:
        raise PrivacyError("法的保留を設定できるのは管理者だけです。")
    if application.procedure.department.agency_id != staff.department.agency_id:
        raise PrivacyError("所管外の申請です。")
    reason = reason.strip()[:200]
    with transaction.atomic():
        Application.objects.filter(pk=application.pk).update(
            legal_hold=reason, legal_hold_at=timezone.now() if reason else None
        )
        audit_record(
            actor=staff.account_key,
            event="application.legal_hold" if reason else "application.legal_hold_clear",
            request=request,
            resource=f"application:{application.reference}",
        )
