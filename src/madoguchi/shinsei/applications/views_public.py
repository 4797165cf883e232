"""Citizen pages (public listener). Thin: forms validate, services act."""

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.forms import CheckboxSelectMultiple, FileField
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from madoguchi.platform.network import client_address
from madoguchi.platform.throttle import failures_limited
from madoguchi.shinsei.procedures.models import Agency, FormVersion, Procedure
from madoguchi.shinsei.procedures.questions import (
    DEFAULT_FILE_TYPES,
    DEFAULT_MAX_BYTES,
    DEFAULT_STEP,
    Step,
    is_visible,
    steps_of,
)
from madoguchi.shinsei.procedures.services import form_version_current

from . import selectors, services
from .emails import privacy_notice_url
from .files import FileRefused, file_store, upload_admit
from .flow import Flow, _as_querydict, answers_upto, step_form
from .forms import InquiryForm, display_answers, localised, show_answer
from .models import Application, Draft

logger = logging.getLogger(__name__)

GRANTS = "granted_applications"


def _say(request: HttpRequest, message: str, kind: str) -> None:
    """A banner for the status page: ``success``, ``info`` or ``error``."""
    request.session["status_message"] = message
    request.session["status_message_kind"] = kind


def _granted(request: HttpRequest, reference: str) -> Application:
    if reference not in request.session.get(GRANTS, []):
        raise Http404("not granted")
    return get_object_or_404(
        Application.objects.select_related("procedure__department__agency", "form_version"),
        reference=reference,
    )


def _grant(request: HttpRequest, application: Application) -> None:
    # A change of privilege (the citizen proved 整理番号 and password, or just
    # submitted): a new session key, so a key planted before is worth nothing.
    request.session.cycle_key()
    granted = [r for r in request.session.get(GRANTS, []) if r != application.reference]
    request.session[GRANTS] = ([*granted, application.reference])[-10:]


def _open_procedure(slug: str, request: HttpRequest | None = None) -> Procedure:
    procedure = get_object_or_404(Procedure.objects.select_related("department__agency"), slug=slug)
    if not procedure.is_open(timezone.now()):
        # A returned application can be corrected after publication ends.
        flow = Flow.load(request.session, procedure) if request is not None else None
        if flow is None or not flow.resubmit:
            raise Http404("not published now")
    return procedure


def procedure_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    procedures = [
        p
        for p in Procedure.objects.filter(is_published=True)
        .select_related("department__agency")
        .order_by("department__agency__id", "department__id", "id")
        if p.is_open(now)
    ]
    return render(request, "shinsei/procedure_list.html", {"procedures": procedures})


@never_cache
def procedure_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The start page; starting (POST) opens a fresh form in the session."""
    procedure = _open_procedure(slug)
    flow = Flow.load(request.session, procedure)
    if request.method == "POST":
        version = form_version_current(procedure=procedure)
        Flow(version_id=version.pk).save(request.session, procedure)
        return HttpResponseRedirect(reverse("shinsei:step", args=[slug, 1]))
    return render(
        request,
        "shinsei/procedure_start.html",
        {"procedure": procedure, "in_progress": flow is not None and not flow.resubmit},
    )


def procedure_privacy(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    """利用目的 and the privacy notice: the current one, or the one kept with
    form version ``number`` (what an applicant under that version was shown)."""
    procedure = get_object_or_404(Procedure.objects.select_related("department"), slug=slug)
    version = None
    purpose, notice = procedure.purpose, procedure.privacy_notice
    if number is not None:
        version = get_object_or_404(FormVersion, procedure=procedure, number=number)
        purpose, notice = version.purpose, version.privacy_notice
    return render(
        request,
        "shinsei/privacy_notice.html",
        {"procedure": procedure, "version": version, "purpose": purpose, "notice": notice},
    )


def _flow_or_start(request: HttpRequest, procedure: Procedure) -> tuple[Flow, FormVersion] | None:
    flow = Flow.load(request.session, procedure)
    if flow is None:
        return None
    version = FormVersion.objects.filter(pk=flow.version_id, procedure=procedure).first()
    if version is None:
        Flow.clear(request.session, procedure)
        return None
    return flow, version


def _next_url(procedure: Procedure, steps: list[Step], number: int, change: bool) -> str:
    if change or number >= len(steps):
        return reverse("shinsei:check", args=[procedure.slug])
    return reverse("shinsei:step", args=[procedure.slug, number + 1])


@never_cache
def procedure_step(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    procedure = _open_procedure(slug, request)
    loaded = _flow_or_start(request, procedure)
    if loaded is None:
        return HttpResponseRedirect(reverse("shinsei:procedure", args=[slug]))
    flow, version = loaded
    questions = list(version.questions)
    steps = steps_of(questions)
    if not 1 <= number <= len(steps):
        raise Http404("no such step")
    step = steps[number - 1]
    change = request.GET.get("change") == "1"
    before, _ = answers_upto(flow, questions, number - 1)
    if request.method == "POST":
        form = step_form(flow, step, before, data=request.POST, files=request.FILES)
        # Keep what was typed even when it is invalid: nothing is lost on an error.
        for name, field in form.fields.items():
            if isinstance(field.widget, CheckboxSelectMultiple):
                flow.data[name] = request.POST.getlist(name)
            elif not isinstance(field, FileField):
                flow.data[name] = request.POST.get(name, "")
        valid = form.is_valid()
        for question in form.questions:
            upload = form.cleaned_data.get(question["name"]) if valid else None
            if question["type"] == "file" and upload:
                try:
                    upload_admit(
                        session=request.session,
                        address=client_address(request),
                        size=upload.size or 0,
                    )
                    flow.files[question["name"]] = file_store(
                        procedure=procedure, question=question["name"], upload=upload
                    )
                except FileRefused as exc:
                    form.add_error(
                        question["name"],
                        # (``_`` is a local name in this view.)
                        gettext("%(label)s：%(error)s")
                        % {"label": localised(question)["label"], "error": gettext(str(exc))},
                    )
                    valid = False
        flow.save(request.session, procedure)
        if "save" in request.POST:
            return _save_draft(request, procedure, version, flow)
        if valid:
            return HttpResponseRedirect(_next_url(procedure, steps, number, change))
        status = 400
    else:
        form = step_form(flow, step, before, data=_as_querydict(flow.data) if flow.data else None)
        if not form.questions:
            # Every question of this step is hidden by its condition: skip it.
            return HttpResponseRedirect(_next_url(procedure, steps, number, change))
        if form.is_bound:
            form.is_valid()
            # Errors appear only after the citizen presses "continue".
            form._errors = ErrorDict()  # type: ignore[attr-defined]
        status = 200
    groups = [_group(q, [form[n] for n in names]) for q, names in form.groups]
    return render(
        request,
        "shinsei/procedure_step.html",
        {
            "procedure": procedure,
            "step": step,
            "step_title": _step_title(step),
            "steps": steps,
            "form": form,
            "groups": groups,
            "kept_files": flow.files,
            "change": change,
            "resubmit": flow.resubmit,
        },
        status=status,
    )


def _group(question: dict[str, Any], fields: list[Any]) -> dict[str, Any]:
    shown = localised(question)
    group: dict[str, Any] = {"question": question, "fields": fields, "label": shown["label"]}
    if question["type"] == "file":
        accept = [str(e).upper() for e in question.get("accept", DEFAULT_FILE_TYPES)]
        group["file_required"] = question.get("required", True)
        group["file_rule"] = _("%(types)s 形式、%(mb)sMB以下") % {
            "types": _("・").join(accept),
            "mb": int(question.get("max_bytes", DEFAULT_MAX_BYTES)) // (1024 * 1024),
        }
    return group


def _step_title(step: Step) -> str:
    """The step's title in the active language (``step_en`` on its first
    question that names the step)."""
    if get_language() == "en":
        for question in step.questions:
            if question.get("step") and question.get("step_en"):
                return str(question["step_en"])
    if step.title == DEFAULT_STEP:
        return _("申請内容")
    return step.title


def _save_draft(
    request: HttpRequest, procedure: Procedure, version: FormVersion, flow: Flow
) -> HttpResponse:
    if flow.resubmit:
        return HttpResponseRedirect(reverse("shinsei:check", args=[procedure.slug]))
    draft, token = services.draft_save(
        procedure=procedure,
        form_version=version,
        data={"data": flow.data, "files": flow.files},
    )
    request.session["saved_draft"] = {
        "url": request.build_absolute_uri(reverse("shinsei:draft", args=[token])),
        "procedure": procedure.name,
        "expires_at": draft.expires_at.isoformat(),
    }
    return HttpResponseRedirect(reverse("shinsei:saved"))


@never_cache
def draft_saved(request: HttpRequest) -> HttpResponse:
    info = request.session.get("saved_draft")
    if not info:
        return HttpResponseRedirect(reverse("shinsei:procedures"))
    return render(
        request,
        "shinsei/draft_saved.html",
        {**info, "expires_at": datetime.fromisoformat(info["expires_at"])},
    )


@never_cache
def draft_resume(request: HttpRequest, token: str) -> HttpResponse:
    draft = services.draft_open(token=token)
    if draft is None:
        return render(request, "shinsei/draft_missing.html", status=404)
    flow = Flow(
        version_id=draft.form_version_id,
        data=dict(draft.data.get("data", {})),
        files=dict(draft.data.get("files", {})),
        draft_id=draft.pk,
    )
    flow.save(request.session, draft.procedure)
    return HttpResponseRedirect(reverse("shinsei:check", args=[draft.procedure.slug]))


@never_cache
def procedure_check(request: HttpRequest, slug: str) -> HttpResponse:
    """Check your answers, then submit (or resubmit after 差戻し)."""
    procedure = _open_procedure(slug, request)
    loaded = _flow_or_start(request, procedure)
    if loaded is None:
        return HttpResponseRedirect(reverse("shinsei:procedure", args=[slug]))
    flow, version = loaded
    questions = list(version.questions)
    answers, first_invalid = answers_upto(flow, questions)
    if first_invalid is not None:
        return HttpResponseRedirect(reverse("shinsei:step", args=[slug, first_invalid]))
    if request.method == "POST":
        if flow.resubmit:
            application = _granted(request, flow.resubmit)
            try:
                services.application_resubmit(application=application, answers=answers)
            except services.ApplicationError as exc:
                _say(request, _(exc.message), "error")
            else:
                _say(request, _("修正した内容で再申請しました。"), "success")
            Flow.clear(request.session, procedure)
            return HttpResponseRedirect(reverse("shinsei:status", args=[application.reference]))
        application, password = services.application_submit(
            procedure=procedure, form_version=version, answers=answers, language=get_language()
        )
        if flow.draft_id:
            Draft.objects.filter(pk=flow.draft_id).delete()
        Flow.clear(request.session, procedure)
        request.session.pop("uploads", None)  # its files now belong to the application
        _grant(request, application)
        request.session["just_submitted"] = {
            "reference": application.reference,
            "password": password,
        }
        return HttpResponseRedirect(reverse("shinsei:submitted"))
    steps = steps_of(questions)
    sections = []
    for step in steps:
        rows = [
            (q["name"], localised(q)["label"], show_answer(q, answers.get(q["name"])), _anchor(q))
            for q in step.questions
            if is_visible(q, answers)
        ]
        if rows:
            sections.append((step, _step_title(step), rows))
    return render(
        request,
        "shinsei/procedure_check.html",
        {
            "procedure": procedure,
            "sections": sections,
            "fee": procedure.fee_for(answers),
            "resubmit": flow.resubmit,
        },
    )


def _anchor(question: dict[str, Any]) -> str:
    if question["type"] == "address":
        return f"id_{question['name']}__postal_code"
    if question["type"] in ("radio", "checkboxes"):
        return f"id_{question['name']}_0"
    return f"id_{question['name']}"


@never_cache
def submitted(request: HttpRequest) -> HttpResponse:
    info: dict[str, Any] | None = request.session.pop("just_submitted", None)
    if info is None:
        return HttpResponseRedirect(reverse("shinsei:inquiry"))
    application = get_object_or_404(
        Application.objects.select_related("procedure__department", "form_version"),
        reference=info["reference"],
    )
    return render(
        request,
        "shinsei/submitted.html",
        {
            "application": application,
            "password": info["password"],
            "privacy_url": privacy_notice_url(application),
        },
    )


@never_cache
@sensitive_post_parameters("password")
@failures_limited("inquiry", fields=("reference",))
def inquiry(request: HttpRequest) -> HttpResponse:
    # The acceptance email's link arrives with the 整理番号 filled in.
    form = InquiryForm(request.POST or None, initial={"reference": request.GET.get("reference")})
    error = ""
    if request.method == "POST" and form.is_valid():
        application = services.application_authenticate(
            reference=form.cleaned_data["reference"], password=form.cleaned_data["password"]
        )
        if application is not None:
            _grant(request, application)
            return HttpResponseRedirect(reverse("shinsei:status", args=[application.reference]))
        error = _("整理番号またはパスワードが正しくありません。")
    status = 400 if request.method == "POST" else 200
    return render(request, "shinsei/inquiry.html", {"form": form, "error": error}, status=status)


@never_cache
def application_status(request: HttpRequest, reference: str) -> HttpResponse:
    application = _granted(request, reference)
    checking = selectors.payment_outcome_pending(application=application)
    return render(
        request,
        "shinsei/status.html",
        {
            "application": application,
            "rows": display_answers(application.questions, application.answers),
            "can_pay": application.payment_status == Application.PaymentStatus.UNPAID
            and not checking,
            "payment_checking": checking,
            "message": request.session.pop("status_message", ""),
            # Set by _say; a message without a kind is neutral, never red.
            "message_kind": request.session.pop("status_message_kind", "info"),
        },
    )


@never_cache
def application_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    """取下げ: a confirmation page, then the POST that withdraws."""
    application = _granted(request, reference)
    if request.method == "POST":
        try:
            services.application_withdraw(application=application)
            _say(request, _("申請を取り下げました。"), "success")
        except services.ApplicationError as exc:
            _say(request, _(exc.message), "error")
        return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))
    if not application.can_withdraw:
        # Say it before the citizen confirms, not after.
        refusal = (
            services.ALREADY_WITHDRAWN
            if application.status == Application.Status.WITHDRAWN
            else services.WITHDRAW_REFUSED
        )
        _say(request, _(refusal), "error")
        return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))
    return render(request, "shinsei/withdraw.html", {"application": application})


@require_POST
def application_correct(request: HttpRequest, reference: str) -> HttpResponse:
    """Open a returned application's answers for correction."""
    application = _granted(request, reference)
    if application.status != Application.Status.RETURNED or application.form_version is None:
        _say(request, _("この申請は修正できません。"), "error")
        return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))
    Flow.for_correction(application.form_version, application.answers, reference).save(
        request.session, application.procedure
    )
    return HttpResponseRedirect(reverse("shinsei:check", args=[application.procedure.slug]))


@never_cache
def application_payment(request: HttpRequest, reference: str) -> HttpResponse:
    """The acceptance email's link: the status page's 支払う where this browser
    already proved the password, else the inquiry form with the number filled in."""
    if reference not in request.session.get(GRANTS, []):
        return HttpResponseRedirect(
            reverse("shinsei:inquiry") + "?" + urlencode({"reference": reference[:20]})
        )
    return HttpResponseRedirect(reverse("shinsei:status", args=[reference]) + "#pay")


@require_POST
def application_pay(request: HttpRequest, reference: str) -> HttpResponse:
    application = _granted(request, reference)
    try:
        return services.payment_checkout_start(application=application, request=request)
    except services.ApplicationError as exc:
        request.session["status_message"] = _(exc.message)
        return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))


@never_cache
def payment_return(request: HttpRequest, reference: str) -> HttpResponse:
    """Back from Kessai's page. Anyone can request this URL, so only the
    owner's session (granted by 整理番号 + password) may cause a call to
    Kessai, and that one is bounded per application; everyone else is sent
    to prove who they are without any call (the notification and the
    reconcile sweep bring the outcome anyway)."""
    if reference not in request.session.get(GRANTS, []):
        # Unknown numbers get the same answer as known ones, so this URL cannot
        # be used to find out which 整理番号 exist.
        return HttpResponseRedirect(reverse("shinsei:inquiry"))
    application = _granted(request, reference)
    services.payment_status_refresh_for_owner(application=application)
    return HttpResponseRedirect(reverse("shinsei:status", args=[reference]))


@csrf_exempt  # authenticated by the HMAC signature instead
@require_POST
def kessai_notification(request: HttpRequest, agency_code: str) -> HttpResponse:
    # What checking the signature needs; other columns load if a rare path reads them.
    agency = get_object_or_404(
        Agency.objects.only("code", "kessai_notification_secrets"), code=agency_code
    )
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
