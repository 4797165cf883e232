"""Department staff pages (staff listener, office network only)."""

import csv
import io
import uuid
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from madoguchi.platform.accounts import login_required
from madoguchi.platform.audit.services import audit_record
from madoguchi.platform.csv_cells import csv_row
from madoguchi.shinsei.staff.models import StaffAccount

from . import refunds, selectors, services
from .files import file_read
from .forms import display_answers
from .forms_staff import (
    AcceptForm,
    FilterForm,
    NoteForm,
    ReasonForm,
    RefundDecisionForm,
    RefundForm,
)
from .models import Application

staff_login_required = login_required(StaffAccount, "staff:login")


def _staff(request: HttpRequest) -> StaffAccount:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    return staff


def _filter_form(request: HttpRequest, staff: StaffAccount) -> FilterForm:
    return FilterForm(
        request.GET or None, procedures=list(selectors.procedures_for_staff(staff=staff))
    )


@never_cache
@staff_login_required
def inbox(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    form = _filter_form(request, staff)
    filters = form.filters() if form.is_bound else selectors.InboxFilter()
    page = Paginator(selectors.applications_filtered(staff=staff, filters=filters), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "shinsei/staff/inbox.html",
        {
            "account": staff,
            "form": form,
            "page": page,
            "applications": page.object_list,
            "now": timezone.now(),
            "query": query.urlencode(),
        },
    )


@never_cache
@require_GET
@staff_login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, UTF-8 with a BOM so Excel reads it."""
    staff = _staff(request)
    form = _filter_form(request, staff)
    filters = form.filters() if form.is_bound else selectors.InboxFilter()
    applications = list(selectors.applications_filtered(staff=staff, filters=filters))
    audit_record(
        actor=staff.account_key,
        event="application.export",
        request=request,
        resource="applications",
        detail={"query": request.GET.urlencode()[:500], "rows": len(applications)},
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        csv_row(["整理番号", "手続", "担当課", "申請者", "申請日時", "状態", "手数料等", "決済状況",
         "支払期限", "決済日", "返金額", "返金日"])
    )  # fmt: skip
    now = timezone.now()
    for a in applications:
        overdue = (
            " (期限超過)"
            if a.payment_status == "unpaid" and a.payment_due_at and a.payment_due_at < now
            else ""
        )
        writer.writerow(
            csv_row(
                [
                    a.reference,
                    a.procedure.name,
                    a.procedure.department.name,
                    a.applicant_name,
                    timezone.localtime(a.submitted_at).strftime("%Y-%m-%d %H:%M"),
                    a.get_status_display(),
                    a.fee_amount,
                    a.get_payment_status_display() + overdue,
                    timezone.localtime(a.payment_due_at).strftime("%Y-%m-%d")
                    if a.payment_due_at
                    else "",
                    timezone.localtime(a.paid_at).strftime("%Y-%m-%d %H:%M") if a.paid_at else "",
                    a.refunded_amount,
                    timezone.localtime(a.refunded_at).strftime("%Y-%m-%d %H:%M")
                    if a.refunded_at
                    else "",
                ]
            )
        )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="applications-{stamp}.csv"'
    return response


def _application_for(staff: StaffAccount, reference: str) -> Application:
    application = selectors.application_for_staff(staff=staff, reference=reference)
    if application is None:
        raise Http404("no such application in this department")
    return application


@never_cache
@staff_login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    staff = _staff(request)
    application = _application_for(staff, reference)
    audit_record(
        actor=staff.account_key,
        event="application.view",
        request=request,
        resource=f"application:{application.reference}",
    )
    return _render_detail(request, staff, application)


def _render_detail(
    request: HttpRequest,
    staff: StaffAccount,
    application: Application,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    if staff.department_id == application.procedure.department_id:
        # Read with the application already; the page's header names it.
        staff.department = application.procedure.department
    # One read of the events serves the history and the mismatch warnings.
    events = list(application.events.all())
    return render(
        request,
        "shinsei/staff/detail.html",
        {
            "account": staff,
            "application": application,
            "rows": display_answers(application.questions, application.answers),
            "files": application.files.order_by("created_at"),
            "events": selectors.application_history(application=application, events=events),
            "payment_mismatches": [e for e in events if e.type == services.PAYMENT_MISMATCH],
            "notes": application.notes.select_related("author"),
            "message": request.session.pop("staff_message", ""),
            "message_kind": request.session.pop("staff_message_kind", "info"),
            "accept_form": forms.get("accept", AcceptForm()),
            "reject_form": forms.get("reject", ReasonForm(prefix="reject")),
            "return_form": forms.get("return", ReasonForm(prefix="return")),
            "note_form": forms.get("note", NoteForm()),
            "refund_form": forms.get("refund", RefundForm()),
            "decision_form": RefundDecisionForm(),
            "refund_requests": application.refund_requests.select_related(
                "requested_by", "decided_by"
            ),
            "refundable": refunds.refundable_amount(application=application),
            "refund_refusal": refunds.refund_refusal(application=application),
            "overdue": application.payment_status == "unpaid"
            and application.payment_due_at is not None
            and application.payment_due_at < timezone.now(),
            "staff_sets_amount": application.procedure.fee_kind == "staff_set",
        },
        status=status,
    )


def _done(request: HttpRequest, reference: str, message: str, kind: str = "error") -> HttpResponse:
    """Back to the application with a banner: ``success`` for what was done,
    ``error`` (the default) for what was refused."""
    request.session["staff_message"] = message
    request.session["staff_message_kind"] = kind
    return HttpResponseRedirect(reverse("staff:detail", args=[reference]))


@require_POST
@staff_login_required
def accept(request: HttpRequest, reference: str) -> HttpResponse:
    staff = _staff(request)
    application = _application_for(staff, reference)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, staff, application, forms={"accept": form}, status=400)
    try:
        services.application_accept(
            application=application, staff=staff, amount=form.cleaned_data["amount"]
        )
    except services.ApplicationError as exc:
        return _done(request, reference, exc.message)
    return _done(request, reference, "受理しました。", "success")


def _reason_action(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    staff = _staff(request)
    application = _application_for(staff, reference)
    form = ReasonForm(request.POST, prefix=kind)
    if not form.is_valid():
        return _render_detail(request, staff, application, forms={kind: form}, status=400)
    action = services.application_reject if kind == "reject" else services.application_return
    try:
        action(application=application, staff=staff, reason=form.cleaned_data["reason"])
    except services.ApplicationError as exc:
        return _done(request, reference, exc.message)
    return _done(
        request, reference, "却下しました。" if kind == "reject" else "差し戻しました。", "success"
    )


@require_POST
@staff_login_required
def reject(request: HttpRequest, reference: str) -> HttpResponse:
    return _reason_action(request, reference, "reject")


@require_POST
@staff_login_required
def return_(request: HttpRequest, reference: str) -> HttpResponse:
    return _reason_action(request, reference, "return")


@require_POST
@staff_login_required
def complete(request: HttpRequest, reference: str) -> HttpResponse:
    staff = _staff(request)
    application = _application_for(staff, reference)
    try:
        services.application_complete(application=application, staff=staff)
    except services.ApplicationError as exc:
        return _done(request, reference, exc.message)
    return _done(request, reference, "処理完了にしました。", "success")


@require_POST
@staff_login_required
def note(request: HttpRequest, reference: str) -> HttpResponse:
    staff = _staff(request)
    application = _application_for(staff, reference)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, staff, application, forms={"note": form}, status=400)
    services.application_note_add(
        application=application, staff=staff, body=form.cleaned_data["body"]
    )
    return _done(request, reference, "メモを追加しました。", "success")


@never_cache
@require_GET
@staff_login_required
def file_download(request: HttpRequest, reference: str, file_id: uuid.UUID) -> HttpResponse:
    staff = _staff(request)
    stored = selectors.file_for_staff(staff=staff, reference=reference, file_id=str(file_id))
    if stored is None:
        raise Http404("no such file")
    audit_record(
        actor=staff.account_key,
        event="application.file_download",
        request=request,
        resource=f"application:{reference}",
        detail={"file": str(stored.id)},
    )
    response = HttpResponse(file_read(stored), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=stored.original_name
    )
    return response


@require_POST
@staff_login_required
def refund_request(request: HttpRequest, reference: str) -> HttpResponse:
    """返金の申請: the department's staff ask; someone else approves."""
    staff = _staff(request)
    application = _application_for(staff, reference)
    form = RefundForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, staff, application, forms={"refund": form}, status=400)
    try:
        refunds.refund_request_create(
            application=application,
            staff=staff,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            reason_text=form.cleaned_data["reason_text"],
        )
    except services.ApplicationError as exc:
        return _done(request, reference, exc.message)
    return _done(
        request, reference, "返金を申請しました。別の方（審査者・管理者）の承認を待ちます。"
    )


def _refund_decision(
    request: HttpRequest, reference: str, refund_id: int, *, approve: bool
) -> HttpResponse:
    staff = _staff(request)
    application = _application_for(staff, reference)
    refund = refunds.refund_for_staff(application=application, refund_id=refund_id)
    if refund is None:
        raise Http404("no such refund")
    form = RefundDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if approve:
            refunds.refund_request_approve(refund=refund, staff=staff, note=note)
        else:
            refunds.refund_request_decline(refund=refund, staff=staff, note=note)
    except refunds.RefundNotAllowed as exc:
        audit_record(
            actor=staff.account_key,
            event="refund.approve" if approve else "refund.decline",
            outcome="denied",
            request=request,
            resource=f"application:{reference}",
            detail={"refund": refund.pk},
        )
        request.session["staff_message"] = exc.message
        return _render_detail(request, staff, application, status=403)
    except services.ApplicationError as exc:
        return _done(request, reference, exc.message)
    return _done(
        request,
        reference,
        "返金を承認しました。決済システムに送ります。" if approve else "返金を差し戻しました。",
    )


@require_POST
@staff_login_required
def refund_approve(request: HttpRequest, reference: str, refund_id: int) -> HttpResponse:
    return _refund_decision(request, reference, refund_id, approve=True)


@require_POST
@staff_login_required
def refund_decline(request: HttpRequest, reference: str, refund_id: int) -> HttpResponse:
    return _refund_decision(request, reference, refund_id, approve=False)
