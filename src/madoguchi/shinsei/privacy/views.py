"""Administrators' privacy pages (staff listener): the personal-data
inventory, retention reports, access requests (開示請求) and legal holds."""

import csv
import io

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from madoguchi.shinsei.applications import selectors
from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.shinsei.procedures.views_admin import administrator_required
from madoguchi.shinsei.staff.models import StaffAccount

from . import services
from .access import access_export, applications_of_applicant
from .inventory import inventory_rows
from .selectors import reports_for_agency


class AccessRequestForm(forms.Form):
    reference = forms.CharField(label="整理番号", required=False, max_length=20)
    email = forms.EmailField(label="メールアドレス", required=False)
    phone = forms.CharField(label="電話番号", required=False, max_length=30)

    def clean(self) -> dict[str, str]:
        data = super().clean() or {}
        if not any(data.get(k) for k in ("reference", "email", "phone")):
            raise forms.ValidationError(
                "整理番号、メールアドレス、電話番号のいずれかを入力してください。"
            )
        return data


def _staff(request: HttpRequest) -> StaffAccount:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    return staff


def _page(request: HttpRequest, form: AccessRequestForm, status: int = 200) -> HttpResponse:
    staff = _staff(request)
    procedures = Procedure.objects.filter(
        department__agency_id=staff.department.agency_id
    ).select_related("department")
    return render(
        request,
        "shinsei/staff/admin_privacy.html",
        {
            "account": staff,
            "procedures": procedures,
            "inventory": inventory_rows(),
            "reports": reports_for_agency(agency_code=staff.department.agency.code)[:20],
            "form": form,
            "message": request.session.pop("privacy_message", ""),
        },
        status=status,
    )


@never_cache
@require_GET
@administrator_required
def privacy_home(request: HttpRequest) -> HttpResponse:
    return _page(request, AccessRequestForm())


@never_cache
@require_POST
@administrator_required
def access_request(request: HttpRequest) -> HttpResponse:
    form = AccessRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    staff = _staff(request)
    applications = applications_of_applicant(staff=staff, **form.cleaned_data)
    if not applications:
        form.add_error(None, "該当する申請はありません。")
        return _page(request, form, status=404)
    criteria = "、".join(f"{form.fields[k].label}={v}" for k, v in form.cleaned_data.items() if v)
    archive = access_export(
        staff=staff, applications=applications, criteria=criteria, request=request
    )
    response = HttpResponse(archive, content_type="application/zip")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kaiji-{stamp}.zip"'
    return response


@never_cache
@require_GET
@administrator_required
def report_download(request: HttpRequest, report_id: int) -> HttpResponse:
    staff = _staff(request)
    report = next(
        (
            r
            for r in reports_for_agency(agency_code=staff.department.agency.code)
            if r.pk == report_id
        ),
        None,
    )
    if report is None:
        raise Http404("no such report")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["実行日時", "手続", "保存期間", "処理", "整理番号"])
    ran = timezone.localtime(report.ran_at).strftime("%Y-%m-%d %H:%M")
    for line in report.lines:
        for reference in line["references"]:
            writer.writerow([ran, line["procedure"], line["rule"], line["action"], reference])
    for reference in report.held:
        writer.writerow([ran, "", "", "法的保留のため保存", reference])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retention-{report.pk}.csv"'
    return response


@require_POST
@administrator_required
def legal_hold(request: HttpRequest, reference: str) -> HttpResponse:
    staff = _staff(request)
    application = selectors.application_for_staff(staff=staff, reference=reference)
    if application is None:
        raise Http404("no such application in this agency")
    try:
        services.legal_hold_set(
            application=application,
            staff=staff,
            reason=request.POST.get("legal_hold", ""),
            request=request,
        )
    except services.PrivacyError as exc:
        raise Http404(str(exc)) from exc
    return HttpResponseRedirect(reverse("staff:detail", args=[reference]))
