"""Console pages for payment operations (issue #14): administrators act,
with a reason; every console account may read the failed deliveries and
the refund register (還付一覧)."""

import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments.models import Attempt, Notification, Payment

from . import exports, operations, selectors
from .forms import ConsoleRefundForm, OperationReasonForm, RefundRegisterForm, transaction_forms
from .pages import _csv_response, page_context
from .permissions import administrator_required
from .views import console_login_required


def _operator(request: HttpRequest, form: OperationReasonForm) -> operations.Operator:
    return operations.Operator(
        actor=str(request.account.account_key),  # type: ignore[attr-defined]
        reason=form.cleaned_data["reason"],
    )


def _back(request: HttpRequest, public_id: str, message: str) -> HttpResponse:
    request.session["console_message"] = message
    return HttpResponseRedirect(reverse("console:transaction", args=[public_id]))


def _detail_again(
    request: HttpRequest, public_id: str, *, forms: dict[str, Any], status: int
) -> HttpResponse:
    detail = selectors.transaction_detail(public_id)
    if detail is None:
        raise Http404
    return render(
        request,
        "console/transaction_detail.html",
        page_context(request, detail=detail, **transaction_forms(detail, forms)),
        status=status,
    )


@require_POST
@administrator_required
def payment_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = get_object_or_404(Payment, public_id=public_id)
    form = OperationReasonForm(request.POST, prefix="cancel")
    if not form.is_valid():
        return _detail_again(request, public_id, forms={"cancel": form}, status=400)
    try:
        operations.console_payment_cancel(payment=payment, operator=_operator(request, form))
    except operations.OperationRefused as exc:
        return _back(request, public_id, exc.message)
    return _back(request, public_id, "決済を取り消しました。加盟店に通知します。")


@require_POST
@administrator_required
def payment_refund(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = get_object_or_404(Payment, public_id=public_id)
    form = ConsoleRefundForm(request.POST, prefix="refund")
    if not form.is_valid():
        return _detail_again(request, public_id, forms={"refund": form}, status=400)
    try:
        refund = operations.console_refund(
            payment=payment,
            operator=_operator(request, form),
            amount=form.cleaned_data["amount"],
            expected_refundable_amount=form.cleaned_data["expected_refundable_amount"],
            written_request=form.cleaned_data["written_request"],
        )
    except operations.OperationRefused as exc:
        return _back(request, public_id, exc.message)
    outcome = {"succeeded": "返金しました。", "failed": "決済事業者が返金を断りました。"}
    return _back(
        request,
        public_id,
        outcome.get(refund.status, "返金を送りました。結果は決済事業者に照会中です。"),
    )


@require_POST
@administrator_required
def attempt_inquire(request: HttpRequest, public_id: str, attempt_id: int) -> HttpResponse:
    form = OperationReasonForm(request.POST, prefix="op")
    if not form.is_valid():
        return _detail_again(request, public_id, forms={}, status=400)
    attempt = get_object_or_404(
        Attempt.objects.select_related("payment"), pk=attempt_id, payment__public_id=public_id
    )
    try:
        settled = operations.console_attempt_inquire(
            attempt=attempt, operator=_operator(request, form)
        )
    except operations.OperationRefused as exc:
        return _back(request, public_id, exc.message)
    return _back(
        request, public_id, f"照会しました。結果：{selectors.attempt_label(settled.status)}"
    )


@require_POST
@administrator_required
def notification_resend(request: HttpRequest, notification_id: int) -> HttpResponse:
    form = OperationReasonForm(request.POST, prefix="op")
    if not form.is_valid():
        return render(
            request,
            "console/notifications_failed.html",
            page_context(request, **_failed_context(request)),
            status=400,
        )
    notification = get_object_or_404(
        Notification.objects.select_related("payment"), pk=notification_id
    )
    operations.console_notification_resend(
        notification=notification, operator=_operator(request, form)
    )
    return _back(request, notification.payment.public_id, "通知を再送します。")


@require_POST
@administrator_required
def merchant_resend_given_up(request: HttpRequest, code: str) -> HttpResponse:
    merchant = get_object_or_404(Merchant, code=code)
    form = OperationReasonForm(request.POST, prefix="op")
    if not form.is_valid():
        return render(
            request,
            "console/notifications_failed.html",
            page_context(request, **_failed_context(request)),
            status=400,
        )
    count = operations.console_notifications_resend_given_up(
        merchant=merchant, operator=_operator(request, form)
    )
    request.session["console_message"] = f"{merchant.display_name}の通知 {count} 件を再送します。"
    return HttpResponseRedirect(reverse("console:notifications_failed"))


def _failed_context(request: HttpRequest) -> dict[str, Any]:
    merchant = request.GET.get("merchant", "")
    merchant_id = int(merchant) if merchant.isdigit() else None
    return {
        "notifications": selectors.notifications_failed(merchant_id=merchant_id),
        "merchants": Merchant.objects.order_by("pk").values("pk", "code", "display_name"),
        "merchant_id": merchant_id,
        "message": request.session.pop("console_message", ""),
    }


@never_cache
@require_GET
@console_login_required
def notifications_failed(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/notifications_failed.html",
        page_context(request, **_failed_context(request)),
    )


def _register(request: HttpRequest) -> tuple[RefundRegisterForm, datetime.date, datetime.date]:
    form = RefundRegisterForm(request.GET or None)
    start, end = form.period(selectors.today_jst())
    return form, start, end


@never_cache
@require_GET
@console_login_required
def refund_register(request: HttpRequest) -> HttpResponse:
    form, start, end = _register(request)
    rows = list(selectors.refund_register(start=start, end=end, merchant_id=form.merchant_id()))
    return render(
        request,
        "console/refund_register.html",
        page_context(
            request,
            form=form,
            start=start,
            last=end - datetime.timedelta(days=1),
            refunds=rows,
            total=sum(r["amount"] for r in rows),
            query=request.GET.urlencode(),
        ),
    )


@require_GET
@console_login_required
def refund_register_csv(request: HttpRequest) -> HttpResponse:
    form, start, end = _register(request)
    merchant_id = form.merchant_id()
    rows = selectors.refund_register(start=start, end=end, merchant_id=merchant_id)
    return _csv_response(
        request,
        name="refund-register.csv",
        header=exports.REFUND_REGISTER_HEADER,
        rows=exports.refund_register_rows(rows.iterator(chunk_size=2000)),
        encoding="shift_jis" if request.GET.get("encoding") == "shift_jis" else "utf-8",
        detail={"date_from": str(start), "date_to": str(end), "merchant_id": merchant_id},
    )
