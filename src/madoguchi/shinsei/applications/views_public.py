"""Citizen pages (public listener). Thin: forms validate, services act."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from madoguchi.platform.throttle import failures_limited
from madoguchi.shinsei.procedures.models import Agency, Procedure

from . import services
from .forms import ApplicationForm, InquiryForm, display_answers
from .models import Application

GRANTS = "granted_applications"


def _draft_key(procedure: Procedure) -> str:
    return f"draft:{procedure.slug}"


def _granted(request: HttpRequest, reference: str) -> Application:
    if reference not in request.session.get(GRANTS, []):
        raise Http404("not granted")
    return get_object_or_404(
        Application.objects.select_related("procedure__department__agency"), reference=reference
    )


def _grant(request: HttpRequest, application: Application) -> None:
    granted = [r for r in request.session.get(GRANTS, []) if r != application.reference]
    request.session[GRANTS] = ([*granted, application.reference])[-10:]


def procedure_list(request: HttpRequest) -> HttpResponse:
    procedures = (
        Procedure.objects.filter(is_published=True)
        .select_related("department__agency")
        .order_by("department__agency__id", "department__id", "id")
    )
    return render(request, "shinsei/procedure_list.html", {"procedures": procedures})


@never_cache
def procedure_form(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = get_object_or_404(Procedure, slug=slug, is_published=True)
    if request.method == "POST":
        form = ApplicationForm(procedure.form_fields, request.POST)
        # Keep what was typed even when it is invalid: nothing the citizen
        # entered is lost on an error.
        request.session[_draft_key(procedure)] = {
            k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"
        }
        if form.is_valid():
            return HttpResponseRedirect(reverse("shinsei:confirm", args=[procedure.slug]))
        status = 400
    else:
        form = ApplicationForm(
            procedure.form_fields, initial=request.session.get(_draft_key(procedure), {})
        )
        status = 200
    return render(
        request,
        "shinsei/procedure_form.html",
        {"procedure": procedure, "form": form},
        status=status,
    )


@never_cache
def procedure_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = get_object_or_404(Procedure, slug=slug, is_published=True)
    draft = request.session.get(_draft_key(procedure))
    form = ApplicationForm(procedure.form_fields, draft or None)
    if not draft or not form.is_valid():
        return HttpResponseRedirect(reverse("shinsei:procedure", args=[procedure.slug]))
    answers = form.answers()
    if request.method == "POST":
        application, password = services.application_submit(procedure=procedure, answers=answers)
        del request.session[_draft_key(procedure)]
        _grant(request, application)
        request.session["just_submitted"] = {
            "reference": application.reference,
            "password": password,
        }
        return HttpResponseRedirect(reverse("shinsei:submitted"))
    return render(
        request,
        "shinsei/procedure_confirm.html",
        {
            "procedure": procedure,
            "rows": display_answers(procedure.form_fields, answers),
            "fee": procedure.fee_for(answers),
        },
    )


@never_cache
def submitted(request: HttpRequest) -> HttpResponse:
    info: dict[str, Any] | None = request.session.pop("just_submitted", None)
    if info is None:
        return HttpResponseRedirect(reverse("shinsei:inquiry"))
    application = get_object_or_404(
        Application.objects.select_related("procedure"), reference=info["reference"]
    )
    return render(
        request,
        "shinsei/submitted.html",
        {"application": application, "password": info["password"]},
    )


@never_cache
@sensitive_post_parameters("password")
@failures_limited("inquiry", fields=("reference",))
def inquiry(request: HttpRequest) -> HttpResponse:
    form = InquiryForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        application = services.application_authenticate(
            reference=form.cleaned_data["reference"], password=form.cleaned_data["password"]
        )
        if application is not None:
            _grant(request, application)
            return HttpResponseRedirect(reverse("shinsei:status", args=[application.reference]))
        error = "整理番号またはパスワードが正しくありません。"
    status = 400 if request.method == "POST" else 200
    return render(request, "shinsei/inquiry.html", {"form": form, "error": error}, status=status)


@never_cache
def application_status(request: HttpRequest, reference: str) -> HttpResponse:
    application = _granted(request, reference)
    return render(
        request,
        "shinsei/status.html",
        {
            "application": application,
            "rows": display_answers(application.procedure.form_fields, application.answers),
            "can_pay": application.payment_status == Application.PaymentStatus.UNPAID,
            "message": request.session.pop("status_message", ""),
        },
    )


@require_POST
def application_pay(request: HttpRequest, reference: str) -> HttpResponse:
    application = _granted(request, reference)
    try:
        url = services.checkout_link_create(application=application)
    except services.ApplicationError as exc:
        request.session["status_message"] = exc.message
        return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))
    return HttpResponseRedirect(url)


@never_cache
def payment_return(request: HttpRequest, reference: str) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.select_related("procedure__department__agency"), reference=reference
    )
    services.payment_status_refresh(application=application)
    if reference not in request.session.get(GRANTS, []):
        # Another browser or an expired session: make them prove who they are.
        return HttpResponseRedirect(reverse("shinsei:inquiry"))
    return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))


@csrf_exempt  # authenticated by the HMAC signature instead
@require_POST
def kessai_notification(request: HttpRequest, agency_code: str) -> HttpResponse:
    agency = get_object_or_404(Agency, code=agency_code)
    try:
        services.notification_receive(
            agency=agency,
            body=request.body,
            signature=request.headers.get("Kessai-Signature", ""),
        )
    except services.NotificationRejected:
        return HttpResponse("rejected", status=400, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
