"""Department staff pages (staff listener, office network only)."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from madoguchi.platform.accounts import login_required
from madoguchi.platform.audit.services import audit_record
from madoguchi.shinsei.staff.models import StaffAccount

from . import selectors, services
from .forms import display_answers
from .models import Application

staff_login_required = login_required(StaffAccount, "staff:login")


@never_cache
@staff_login_required
def inbox(request: HttpRequest) -> HttpResponse:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    return render(
        request,
        "shinsei/staff/inbox.html",
        {
            "account": staff,
            "applications": selectors.applications_for_staff(staff=staff),
        },
    )


def _application_for(staff: StaffAccount, reference: str) -> Application:
    application = selectors.application_for_staff(staff=staff, reference=reference)
    if application is None:
        raise Http404("no such application in this department")
    return application


@never_cache
@staff_login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    application = _application_for(staff, reference)
    audit_record(
        actor=staff.account_key,
        event="application.view",
        request=request,
        resource=f"application:{application.reference}",
    )
    return render(
        request,
        "shinsei/staff/detail.html",
        {
            "account": staff,
            "application": application,
            "rows": display_answers(application.procedure.form_fields, application.answers),
            "message": request.session.pop("staff_message", ""),
        },
    )


@require_POST
@staff_login_required
def accept(request: HttpRequest, reference: str) -> HttpResponse:
    staff: StaffAccount = request.account  # type: ignore[attr-defined]
    application = _application_for(staff, reference)
    try:
        services.application_accept(application=application, staff=staff)
        request.session["staff_message"] = "受理しました。"
    except services.ApplicationError as exc:
        request.session["staff_message"] = exc.message
    return HttpResponseRedirect(reverse("staff:detail", args=[reference]))
