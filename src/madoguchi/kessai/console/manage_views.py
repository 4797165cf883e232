"""Console pages that change things: merchants, accounts and fee rates are
administrators' work; viewers may read the lists and the deletion reports."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.kessai.history.models import ContractEnd, DeletionReport
from madoguchi.kessai.merchants import lifecycle
from madoguchi.kessai.merchants.models import ApiKey, Merchant
from madoguchi.kessai.statistics.models import FeeRate
from madoguchi.platform.audit.services import audit_record

from . import exports, services
from .forms import AccountForm, FeeRateForm, MerchantForm
from .models import ConsoleAccount
from .pages import page_context
from .permissions import administrator_required
from .views import console_login_required


def _actor(request: HttpRequest) -> str:
    return str(request.account.account_key)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ merchants


@never_cache
@require_GET
@console_login_required
def merchants(request: HttpRequest) -> HttpResponse:
    rows = Merchant.objects.order_by("pk").values(
        "code", "display_name", "notification_url", "is_active", "created_at"
    )
    return render(request, "console/merchants.html", page_context(request, merchants=rows))


@never_cache
@require_http_methods(["GET", "POST"])
@administrator_required
def merchant_new(request: HttpRequest) -> HttpResponse:
    form = MerchantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        registered = lifecycle.merchant_register(**form.cleaned_data)
        audit_record(
            actor=_actor(request),
            event="merchant.register",
            request=request,
            resource=f"merchant:{registered.merchant.code}",
        )
        # Shown once: Kessai keeps only the key's hash.
        return render(
            request,
            "console/merchant_secrets.html",
            page_context(
                request,
                merchant=registered.merchant,
                api_key=registered.api_key.raw_key,
                notification_secret=registered.merchant.notification_secret,
            ),
        )
    return render(request, "console/merchant_new.html", page_context(request, form=form))


@never_cache
@require_GET
@console_login_required
def merchant_detail(request: HttpRequest, code: str) -> HttpResponse:
    merchant = get_object_or_404(Merchant, code=code)
    keys = (
        ApiKey.objects.filter(merchant=merchant)
        .order_by("-id")
        .values("prefix", "created_at", "revoked_at")
    )
    return render(
        request,
        "console/merchant_detail.html",
        page_context(
            request,
            merchant=merchant,
            keys=keys,
            rotating=bool(merchant.previous_notification_secret),
            contract_end=ContractEnd.objects.filter(merchant=merchant).first(),
        ),
    )


def _active_merchant(code: str) -> Merchant:
    return get_object_or_404(Merchant, code=code, is_active=True)


@never_cache
@require_POST
@administrator_required
def merchant_api_key_rotate(request: HttpRequest, code: str) -> HttpResponse:
    merchant = _active_merchant(code)
    issued = lifecycle.merchant_api_key_rotate(merchant=merchant)
    audit_record(
        actor=_actor(request),
        event="merchant.api_key_rotate",
        request=request,
        resource=f"merchant:{merchant.code}",
        detail={"prefix": issued.api_key.prefix},
    )
    return render(
        request,
        "console/merchant_secrets.html",
        page_context(request, merchant=merchant, api_key=issued.raw_key),
    )


@never_cache
@require_POST
@administrator_required
def merchant_secret_rotate(request: HttpRequest, code: str) -> HttpResponse:
    merchant = _active_merchant(code)
    secret = lifecycle.merchant_notification_secret_rotate(merchant=merchant)
    audit_record(
        actor=_actor(request),
        event="merchant.notification_secret_rotate",
        request=request,
        resource=f"merchant:{merchant.code}",
    )
    return render(
        request,
        "console/merchant_secrets.html",
        page_context(request, merchant=merchant, notification_secret=secret),
    )


@require_POST
@administrator_required
def merchant_secret_retire(request: HttpRequest, code: str) -> HttpResponse:
    merchant = _active_merchant(code)
    if lifecycle.merchant_notification_secret_retire_previous(merchant=merchant):
        audit_record(
            actor=_actor(request),
            event="merchant.notification_secret_retire_previous",
            request=request,
            resource=f"merchant:{merchant.code}",
        )
    return HttpResponseRedirect(reverse("console:merchant", args=[merchant.code]))


@never_cache
@require_http_methods(["GET", "POST"])
@administrator_required
def merchant_end(request: HttpRequest, code: str) -> HttpResponse:
    merchant = _active_merchant(code)
    error = ""
    if request.method == "POST":
        # Typing the code is the confirmation: this cannot be undone.
        if request.POST.get("confirm_code", "") != merchant.code:
            error = "確認のため、加盟店コードを正しく入力してください。"
        else:
            try:
                report = lifecycle.merchant_contract_end(
                    merchant=merchant, ended_by=_actor(request)
                )
            except lifecycle.PaymentsInFlight:
                error = (
                    "決済事業者の応答を待っている支払があります。数分後にもう一度お試しください。"
                )
            else:
                audit_record(
                    actor=_actor(request),
                    event="merchant.contract_end",
                    request=request,
                    resource=f"merchant:{merchant.code}",
                    detail={"report": report.pk},
                )
                return HttpResponseRedirect(reverse("console:report", args=[report.pk]))
    return render(
        request,
        "console/merchant_end.html",
        page_context(
            request,
            merchant=merchant,
            error=error,
            retention_days=lifecycle.retention_period().days,
        ),
        status=400 if error else 200,
    )


# ------------------------------------------------------------------ reports


@never_cache
@require_GET
@console_login_required
def reports(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/reports.html",
        page_context(
            request,
            reports=DeletionReport.objects.all()[:200],
            contracts=ContractEnd.objects.order_by("-ended_at")[:200],
        ),
    )


def _report_rows(report: DeletionReport) -> list[tuple[str, Any]]:
    return [(str(table), count) for table, count in sorted(report.deleted.items())]


@never_cache
@require_GET
@console_login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    found = DeletionReport.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return render(
        request,
        "console/report.html",
        page_context(request, report=found, deleted=_report_rows(found)),
    )


@require_GET
@console_login_required
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    found = DeletionReport.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    audit_record(
        actor=_actor(request),
        event="export",
        request=request,
        resource=f"deletion_report:{found.pk}",
    )
    rows: list[list[Any]] = [
        ["種別", found.get_kind_display()],
        ["加盟店コード", found.merchant_code],
        ["加盟店", found.merchant_name],
        ["実施日時", exports.jst_text(found.performed_at)],
        ["実施者", found.performed_by],
        ["履歴の保存期限", exports.jst_text(found.retain_until)],
        *[["削除", f"{table}", count] for table, count in _report_rows(found)],
        *[["保存", str(key), value] for key, value in sorted(found.kept.items())],
    ]
    body = b"".join(exports.encode_csv(["項目", "内容", "件数"], rows, encoding="utf-8"))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deletion-report-{found.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ accounts


@never_cache
@require_http_methods(["GET", "POST"])
@administrator_required
def accounts(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None)
    created: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        account, password = services.console_account_create(**form.cleaned_data)
        audit_record(
            actor=_actor(request),
            event="console_account.create",
            request=request,
            resource=account.account_key,
            detail={"role": account.role},
        )
        created = {"login_id": account.login_id, "password": password}
        form = AccountForm()
    rows = ConsoleAccount.objects.order_by("pk").values(
        "login_id", "display_name", "role", "is_active", "last_login"
    )
    return render(
        request,
        "console/accounts.html",
        page_context(
            request,
            form=form,
            accounts=rows,
            created=created,
            roles=dict(ConsoleAccount.Role.choices),
        ),
        status=400 if request.method == "POST" and created is None else 200,
    )


# ------------------------------------------------------------------ fee rates


@never_cache
@require_GET
@console_login_required
def fee_rates(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/fee_rates.html",
        page_context(request, rates=FeeRate.objects.all(), form=FeeRateForm()),
    )


@never_cache
@require_POST
@administrator_required
def fee_rate_new(request: HttpRequest) -> HttpResponse:
    form = FeeRateForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "console/fee_rates.html",
            page_context(request, rates=FeeRate.objects.all(), form=form),
            status=400,
        )
    rate = services.fee_rate_create(**form.cleaned_data, created_by=_actor(request))
    audit_record(
        actor=_actor(request),
        event="fee_rate.create",
        request=request,
        resource=f"fee_rate:{rate.pk}",
        detail={
            "method": rate.method,
            "effective_from": rate.effective_from.isoformat(),
            "percent": str(rate.percent),
            "fixed_yen": rate.fixed_yen,
        },
    )
    return HttpResponseRedirect(reverse("console:fee_rates"))
