"""The hosted payment page. Thin views over services; card data is posted
here, used in memory by the service, and never echoed, logged or stored."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.contract.schemas import PaymentStatus

from . import services
from .errors import AttemptInProgress, CheckoutLinkInvalid, PaymentNotPayable
from .forms import CardForm
from .models import Attempt, Payment

SESSION_KEY = "checkout_payments"

DECLINE_MESSAGES = {
    "card_declined": "カードが承認されませんでした。別のカードでお試しください。",
    "insufficient_funds": "ご利用可能額が不足しているため、承認されませんでした。"
    "別のカードでお試しください。",
    "expired_card": "カードの有効期限が切れています。別のカードでお試しください。",
    "incorrect_cvc": "セキュリティコードが正しくありません。カードをご確認ください。",
    "processing_error": "カード会社で処理できませんでした。時間をおいて再度お試しください。",
}
DEFAULT_DECLINE = "カードが承認されませんでした。別のカードでお試しください。"


def _payment_for_session(request: HttpRequest, public_id: str) -> Payment:
    if public_id not in request.session.get(SESSION_KEY, []):
        raise Http404("no access to this payment")
    payment = Payment.objects.select_related("merchant").filter(public_id=public_id).first()
    if payment is None:
        raise Http404("no such payment")
    return payment


@never_cache
def checkout_start(request: HttpRequest, token: str) -> HttpResponse:
    try:
        payment = services.checkout_token_redeem(raw_token=token)
    except CheckoutLinkInvalid:
        return render(request, "kessai/link_invalid.html", status=404)
    allowed = [p for p in request.session.get(SESSION_KEY, []) if p != payment.public_id]
    request.session[SESSION_KEY] = ([*allowed, payment.public_id])[-5:]
    return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))


def _render_pay(
    request: HttpRequest, payment: Payment, form: CardForm, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "kessai/pay.html",
        {
            "payment": payment,
            "merchant": payment.merchant,
            "form": form,
            "error": error,
            "paid": payment.status == PaymentStatus.SUCCEEDED,
            "payable": payment.status in services.PAYABLE_STATUSES,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET"])
def pay(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    return _render_pay(request, payment, CardForm())


@never_cache
@sensitive_post_parameters("card_number", "security_code", "exp_month", "exp_year")
@require_POST
def pay_card(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    form = CardForm(request.POST)
    if not form.is_valid():
        return _render_pay(request, payment, form, status=400)
    try:
        attempt = services.card_payment_pay(payment=payment, card=form.card())
    except PaymentNotPayable:
        payment.refresh_from_db()
        return _render_pay(request, payment, CardForm())
    except AttemptInProgress:
        return _render_pay(
            request,
            payment,
            CardForm(),
            error="前回のお支払いを処理中です。しばらくしてから画面を更新してください。",
            status=409,
        )
    if attempt.status == Attempt.Status.SUCCEEDED:
        return HttpResponseRedirect(reverse("kessai:complete", args=[payment.public_id]))
    if attempt.status == Attempt.Status.UNKNOWN:
        return _render_pay(
            request,
            payment,
            CardForm(),
            error="カード会社からの応答を確認中です。二重に請求されることはありません。"
            "数分後にこの画面を更新してください。",
            status=503,
        )
    payment.refresh_from_db()
    message = DECLINE_MESSAGES.get(attempt.decline_code, DEFAULT_DECLINE)
    return _render_pay(request, payment, CardForm(), error=message, status=402)


@never_cache
def complete(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    if payment.status != PaymentStatus.SUCCEEDED:
        return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))
    return render(
        request, "kessai/complete.html", {"payment": payment, "merchant": payment.merchant}
    )


@never_cache
def back_to_merchant(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    return HttpResponseRedirect(payment.return_url)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
