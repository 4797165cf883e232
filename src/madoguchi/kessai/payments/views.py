"""The hosted payment page. Thin views over services; card data is posted
here, used in memory by the service, and never echoed, logged or stored."""

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.forms.utils import ErrorDict, ErrorList
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.contract.schemas import PaymentMethod, PaymentStatus
from madoguchi.kessai.providers.card.connectors import card_action_origins
from madoguchi.kessai.providers.registry import get_registry

from . import selectors, services
from .errors import AttemptInProgress, CheckoutLinkInvalid, PaymentNotPayable
from .forms import CardForm
from .models import Attempt, Payment

SESSION_KEY = "checkout_payments"

DECLINE_MESSAGES = {
    "card_declined": _("カードが承認されませんでした。別のカードでお試しください。"),
    "insufficient_funds": _(
        "ご利用可能額が不足しているため、承認されませんでした。別のカードでお試しください。"
    ),
    "expired_card": _("カードの有効期限が切れています。別のカードでお試しください。"),
    "incorrect_cvc": _("セキュリティコードが正しくありません。カードをご確認ください。"),
    "processing_error": _("カード会社で処理できませんでした。時間をおいて再度お試しください。"),
    "authentication_failed": _(
        "本人認証（3-Dセキュア）に失敗しました。"
        "もう一度お試しいただくか、別のカードをご利用ください。"
    ),
    "authentication_abandoned": _(
        "本人認証（3-Dセキュア）を中止しました。"
        "もう一度お試しいただくか、別のカードまたは別の方法でお支払いいただけます。"
    ),
    "authentication_timeout": _(
        "本人認証（3-Dセキュア）の有効時間が過ぎました。もう一度お試しください。"
    ),
    "paypay_cancelled": _("PayPayでのお支払いを中止しました。別の方法でもお支払いいただけます。"),
    "paypay_expired": _("PayPayの支払いコードの有効期限が切れました。もう一度お試しください。"),
    "paypay_failed": _(
        "PayPayでのお支払いができませんでした。残高をご確認のうえ、"
        "もう一度お試しいただくか、別の方法をご利用ください。"
    ),
    "paypay_error": _("PayPayに接続できませんでした。時間をおいて再度お試しください。"),
    # The connection never opened: nothing was sent, nothing charged.
    "not_reached": _(
        "決済サービスに接続できませんでした。請求は発生していません。もう一度お試しください。"
    ),
}
APPLEPAY_REFUSED = _(
    "Apple Payでお支払いできませんでした。もう一度お試しいただくか、別の方法をご利用ください。"
)
PHONE_USER_AGENT = re.compile(r"iPhone|iPod|Android.*Mobile|Mobile.*Safari|Windows Phone")
IN_PROGRESS = _("前回のお支払いを処理中です。しばらくしてから画面を更新してください。")
DEFAULT_DECLINE = _("カードが承認されませんでした。別のカードでお試しください。")
# The citizen stopped on purpose: said plainly, not as a failure.
NEUTRAL_CODES = frozenset({"paypay_cancelled", "authentication_abandoned"})
NOTICES = {
    "in_progress": IN_PROGRESS,
    "pending": _(
        "カード会社からの応答を確認中です。二重に請求されることはありません。"
        "数分後にこの画面を更新してください。"
    ),
}
FLASH_KEY = "kessai_notice"


LANGUAGES = ("ja", "en")
LANGUAGE_SESSION_KEY = "kessai_language"
# The language each opened payment's merchant asked for (public id -> code).
PAYMENT_LANGUAGES_KEY = "kessai_payment_languages"


def _accepted_language(header: str) -> str | None:
    """The first of our languages in an Accept-Language header, by q-value."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def page_language(request: HttpRequest, public_id: str | None = None) -> str:
    """?lang= (remembered for the visit), else the language the merchant asked
    for ("en"), else the browser's Accept-Language, else Japanese."""
    chosen = request.GET.get("lang")
    if chosen in LANGUAGES:
        request.session[LANGUAGE_SESSION_KEY] = chosen
        return str(chosen)
    remembered = request.session.get(LANGUAGE_SESSION_KEY)
    if remembered in LANGUAGES:
        return str(remembered)
    # The merchant's choice was noted when the link was opened (no query on
    # every page); a session from before that note asks the database.
    noted = request.session.get(PAYMENT_LANGUAGES_KEY, {})
    if public_id and public_id in noted:
        asked = noted[public_id]
    elif public_id:
        asked = "en" if Payment.objects.filter(public_id=public_id, language="en").exists() else ""
    else:
        asked = ""
    if asked == "en":
        return "en"
    return _accepted_language(request.headers.get("Accept-Language", "")) or "ja"


def localized(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render the hosted page in the citizen's language (Japanese or English)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = page_language(request, kwargs.get("public_id"))
        with translation.override(language):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        return response

    return wrapped


def _payment_for_session(request: HttpRequest, public_id: str) -> Payment:
    if public_id not in request.session.get(SESSION_KEY, []):
        raise Http404("no access to this payment")
    payment = Payment.objects.select_related("merchant").filter(public_id=public_id).first()
    if payment is None:
        raise Http404("no such payment")
    return payment


@localized
@never_cache
def checkout_start(request: HttpRequest, token: str) -> HttpResponse:
    try:
        payment = services.checkout_token_redeem(raw_token=token)
    except CheckoutLinkInvalid:
        ended = selectors.checkout_link_ended_status(raw_token=token)
        return render(request, "kessai/link_invalid.html", {"ended": ended}, status=404)
    allowed = [p for p in request.session.get(SESSION_KEY, []) if p != payment.public_id]
    request.session[SESSION_KEY] = granted = ([*allowed, payment.public_id])[-5:]
    noted = request.session.get(PAYMENT_LANGUAGES_KEY, {})
    request.session[PAYMENT_LANGUAGES_KEY] = {
        **{p: noted[p] for p in granted if p in noted},
        payment.public_id: payment.language,
    }
    return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))


def _enabled(method: PaymentMethod) -> bool:
    return any(p.method == method for p in get_registry().enabled())


def _applepay_demo_url(payment: Payment) -> str:
    """The simulator's payment sheet (demo mode), or "" outside demo mode."""
    if not settings.KESSAI_APPLEPAY_DEMO_URL or not _enabled(PaymentMethod.APPLE_PAY):
        return ""
    query = urlencode(
        {
            "amount": payment.amount,
            "merchant": settings.KESSAI_APPLEPAY_MERCHANT_ID,
            "return": _return_url("kessai:applepay_demo", payment),
            "cancel": _return_url("kessai:pay", payment),
        }
    )
    return f"{settings.KESSAI_APPLEPAY_DEMO_URL}?{query}"


def _render_pay(request: HttpRequest, payment: Payment) -> HttpResponse:
    """The payment page (GET only). What a POST decided reaches it through the
    session (POST/redirect/GET), so Back and reload never resubmit a form."""
    open_attempt = services.attempt_open(payment=payment)
    payable = payment.status in services.PAYABLE_STATUSES
    past_due = payable and services.payment_past_due(payment)
    notice = _flash_pop(request, payment)
    form = CardForm()
    if notice.get("kind") == "form":
        # Only the messages come back: nothing the citizen typed is kept.
        form._errors = ErrorDict(  # type: ignore[attr-defined]
            {name: ErrorList(messages) for name, messages in notice.get("errors", {}).items()}
        )
    error, info = "", ""
    if notice.get("kind") == "decline":
        code = str(notice.get("code", ""))
        if code in NEUTRAL_CODES:
            info = str(DECLINE_MESSAGES[code])
        else:
            error = str(DECLINE_MESSAGES.get(code, DEFAULT_DECLINE))
    elif notice.get("kind") == "message":
        error = str(notice.get("text", "")) or str(DEFAULT_DECLINE)
    elif notice.get("kind") in NOTICES:
        info = str(NOTICES[str(notice["kind"])])
    response = render(
        request,
        "kessai/pay.html",
        {
            "payment": payment,
            "merchant": payment.merchant,
            "form": form,
            "error": error,
            "info": info,
            "paid": payment.status == PaymentStatus.SUCCEEDED,
            "payable": payable and not past_due,
            "past_due": past_due,
            "challenge": open_attempt
            if open_attempt
            and open_attempt.status == Attempt.Status.REQUIRES_ACTION
            and open_attempt.method == PaymentMethod.CARD
            else None,
            "paypay_waiting": open_attempt
            if open_attempt
            and open_attempt.status == Attempt.Status.REQUIRES_ACTION
            and open_attempt.method == PaymentMethod.PAYPAY
            else None,
            # The provider's answer is awaited (or was lost): no other attempt
            # may start (docs/api.md), so the page offers none.
            "awaiting": (
                NOTICES["pending"] if open_attempt.method == PaymentMethod.CARD else IN_PROGRESS
            )
            if open_attempt
            and open_attempt.status in (Attempt.Status.PENDING, Attempt.Status.UNKNOWN)
            else "",
            "paypay_enabled": _enabled(PaymentMethod.PAYPAY),
            "applepay_enabled": _enabled(PaymentMethod.APPLE_PAY),
            "applepay_demo_url": _applepay_demo_url(payment),
        },
    )
    if origins := card_action_origins(payment.merchant):
        # The card form's post may continue to the card connector's 3-D
        # Secure page (SBPS's): this page alone gets that origin.
        response._csp_config = {  # type: ignore[attr-defined]
            **settings.SECURE_CSP,
            "form-action": [CSP.SELF, *origins],
        }
    return response


def _flash(request: HttpRequest, payment: Payment, **notice: Any) -> None:
    request.session[FLASH_KEY] = {"payment": payment.public_id, **notice}


def _flash_pop(request: HttpRequest, payment: Payment) -> dict[str, Any]:
    notice = request.session.get(FLASH_KEY)
    if not isinstance(notice, dict) or notice.get("payment") != payment.public_id:
        return {}
    del request.session[FLASH_KEY]
    return notice


def _to_page(request: HttpRequest, payment: Payment, **notice: Any) -> HttpResponse:
    """Redirect to the payment page (GET), carrying what to say there."""
    if notice:
        _flash(request, payment, **notice)
    return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))


@localized
@never_cache
@require_http_methods(["GET"])
def pay(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    return _render_pay(request, payment)


@localized
@never_cache
@sensitive_post_parameters("card_number", "security_code", "exp_month", "exp_year")
@require_POST
def pay_card(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    form = CardForm(request.POST)
    if not form.is_valid():
        return _to_page(
            request,
            payment,
            kind="form",
            errors={n: [str(m) for m in e] for n, e in form.errors.items()},
        )
    return_url = settings.KESSAI_PUBLIC_URL.rstrip("/") + reverse(
        "kessai:card_return", args=[payment.public_id]
    )
    try:
        attempt = services.card_payment_pay(
            payment=payment, card=form.card(), return_url=return_url
        )
    except PaymentNotPayable:
        return _to_page(request, payment)
    except AttemptInProgress:
        return _to_page(request, payment, kind="in_progress")
    if attempt.status == Attempt.Status.REQUIRES_ACTION and _straight_to_action(payment, attempt):
        # SBPS's 3-D Secure page, allowed by the payment page's form-action:
        # a frictionless authentication comes straight back, no click. (A
        # return that finds it still open shows Kessai's own page instead.)
        return HttpResponseRedirect(attempt.action_url, status=303)
    return _after_attempt(request, payment, attempt)


def _after_attempt(request: HttpRequest, payment: Payment, attempt: Attempt) -> HttpResponse:
    if attempt.status == Attempt.Status.SUCCEEDED:
        return HttpResponseRedirect(reverse("kessai:complete", args=[payment.public_id]))
    if attempt.status == Attempt.Status.REQUIRES_ACTION and attempt.method == PaymentMethod.PAYPAY:
        return HttpResponseRedirect(reverse("kessai:paypay", args=[payment.public_id]))
    if attempt.status == Attempt.Status.REQUIRES_ACTION:
        # Our own page links to the issuer: CSP form-action forbids a POST
        # being redirected to another origin, and a link works without JS.
        return HttpResponseRedirect(reverse("kessai:card_challenge", args=[payment.public_id]))
    if attempt.status in (Attempt.Status.UNKNOWN, Attempt.Status.PENDING):
        return _to_page(request, payment, kind="pending")
    return _to_page(request, payment, kind="decline", code=attempt.decline_code)


def _straight_to_action(payment: Payment, attempt: Attempt) -> bool:
    if attempt.method != PaymentMethod.CARD:
        return False
    origins = card_action_origins(payment.merchant)
    return any(attempt.action_url.startswith(origin + "/") for origin in origins)


@localized
@never_cache
def complete(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    if payment.status != PaymentStatus.SUCCEEDED:
        return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))
    return render(
        request, "kessai/complete.html", {"payment": payment, "merchant": payment.merchant}
    )


@localized
@never_cache
def back_to_merchant(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    return HttpResponseRedirect(payment.return_url)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@localized
@never_cache
@require_http_methods(["GET"])
def card_challenge(request: HttpRequest, public_id: str) -> HttpResponse:
    """Before the issuer's 3-D Secure page: say what happens, link to it."""
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if attempt is None or attempt.status != Attempt.Status.REQUIRES_ACTION:
        return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))
    return render(
        request,
        "kessai/challenge.html",
        {"payment": payment, "merchant": payment.merchant, "attempt": attempt},
    )


@localized
@never_cache
@require_POST
def card_challenge_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    """Stop a 3-D Secure challenge the citizen does not want to finish: the
    acquirer ends it, so the page offers the card form and other methods again
    instead of waiting for the challenge to time out."""
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if attempt is None or attempt.method != PaymentMethod.CARD:
        return _to_page(request, payment)
    return _after_attempt(request, payment, services.attempt_abandon(attempt=attempt))


@localized
@never_cache
@require_http_methods(["GET"])
def card_return(request: HttpRequest, public_id: str) -> HttpResponse:
    """The issuer sends the browser back here; the outcome is asked of the
    acquirer (the browser's word is not trusted)."""
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if attempt is None:
        return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))
    attempt = services.attempt_refresh(attempt=attempt)
    payment.refresh_from_db()
    return _after_attempt(request, payment, attempt)


# --- PayPay ------------------------------------------------------------------


def _return_url(name: str, payment: Payment) -> str:
    return settings.KESSAI_PUBLIC_URL.rstrip("/") + reverse(name, args=[payment.public_id])


@localized
@never_cache
@require_POST
def paypay_start(request: HttpRequest, public_id: str) -> HttpResponse:
    if not _enabled(PaymentMethod.PAYPAY):
        raise Http404("PayPay is not enabled")
    payment = _payment_for_session(request, public_id)
    try:
        attempt = services.paypay_payment_start(
            payment=payment, return_url=_return_url("kessai:paypay_return", payment)
        )
    except PaymentNotPayable:
        return _to_page(request, payment)
    except AttemptInProgress:
        return _to_page(request, payment, kind="in_progress")
    if attempt.status == Attempt.Status.REQUIRES_ACTION and _straight_to_action(payment, attempt):
        # SBPS's 3-D Secure page, allowed by the payment page's form-action:
        # a frictionless authentication comes straight back, no click. (A
        # return that finds it still open shows Kessai's own page instead.)
        return HttpResponseRedirect(attempt.action_url, status=303)
    return _after_attempt(request, payment, attempt)


@localized
@never_cache
@require_http_methods(["GET"])
def paypay(request: HttpRequest, public_id: str) -> HttpResponse:
    """Waiting for the PayPay app: a QR code on a computer, the deep link on a
    phone; a small same-origin script polls, and without JavaScript the
    citizen presses 「支払い状況を確認する」."""
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if (
        attempt is None
        or attempt.method != PaymentMethod.PAYPAY
        or attempt.status != Attempt.Status.REQUIRES_ACTION
    ):
        return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))
    qr_svg = segno.make(attempt.action_url, error="m").svg_inline(
        scale=5, border=4, title=str(_("PayPayの支払いコード"))
    )
    return render(
        request,
        "kessai/paypay.html",
        {
            "payment": payment,
            "merchant": payment.merchant,
            "attempt": attempt,
            "qr_svg": qr_svg,
            "is_phone": bool(PHONE_USER_AGENT.search(request.headers.get("User-Agent", ""))),
        },
    )


@localized
@never_cache
@require_http_methods(["GET"])
def paypay_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """Polled by paypay.js: asks PayPay (GET payment details) and says whether
    there is anything to show."""
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if attempt is not None:
        attempt = services.attempt_refresh(attempt=attempt)
    waiting = attempt is not None and attempt.status == Attempt.Status.REQUIRES_ACTION
    return JsonResponse({"waiting": waiting})


@localized
@never_cache
@require_http_methods(["GET"])
def paypay_return(request: HttpRequest, public_id: str) -> HttpResponse:
    """Back from PayPay (redirect, polling, or the citizen's button)."""
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if attempt is None:
        latest = payment.attempts.order_by("-id").first()
        if payment.status == PaymentStatus.SUCCEEDED:
            return HttpResponseRedirect(reverse("kessai:complete", args=[payment.public_id]))
        if latest is not None and latest.method == PaymentMethod.PAYPAY:
            return _after_attempt(request, payment, latest)
        return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))
    attempt = services.attempt_refresh(attempt=attempt)
    payment.refresh_from_db()
    return _after_attempt(request, payment, attempt)


@localized
@never_cache
@require_POST
def paypay_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _payment_for_session(request, public_id)
    attempt = services.attempt_open(payment=payment)
    if attempt is not None and attempt.method == PaymentMethod.PAYPAY:
        attempt = services.attempt_abandon(attempt=attempt)
        payment.refresh_from_db()
        return _after_attempt(request, payment, attempt)
    return HttpResponseRedirect(reverse("kessai:pay", args=[payment.public_id]))


@csrf_exempt
@require_POST
def paypay_webhook(request: HttpRequest) -> HttpResponse:
    """PayPay's transaction webhook. Its body is only a hint: the outcome is
    read from PayPay's API (an unsigned body could be forged)."""
    try:
        key = str(json.loads(request.body).get("merchant_order_id", ""))
    except (ValueError, AttributeError):
        return HttpResponse(status=400)
    attempt = services.attempt_for_provider_key(key=key)
    if attempt is not None and attempt.method == PaymentMethod.PAYPAY:
        services.attempt_refresh(attempt=attempt)
    return HttpResponse(status=200)


# --- Apple Pay -----------------------------------------------------------------


def _applepay_pay(request: HttpRequest, payment: Payment, token: object) -> tuple[int, str, str]:
    """Returns (HTTP status, redirect or "", error message or "")."""
    from madoguchi.kessai.providers.applepay.token import TokenError

    if not isinstance(token, dict):
        return 400, "", str(APPLEPAY_REFUSED)
    try:
        attempt = services.applepay_payment_pay(payment=payment, token=token)
    except TokenError:
        return 400, "", str(APPLEPAY_REFUSED)
    except PaymentNotPayable:
        return 409, reverse("kessai:pay", args=[payment.public_id]), ""
    except AttemptInProgress:
        return (
            409,
            "",
            str(IN_PROGRESS),
        )
    if attempt.status == Attempt.Status.SUCCEEDED:
        return 200, reverse("kessai:complete", args=[payment.public_id]), ""
    if attempt.status == Attempt.Status.UNKNOWN:
        return 503, reverse("kessai:pay", args=[payment.public_id]), ""
    return 402, "", str(DECLINE_MESSAGES.get(attempt.decline_code, DEFAULT_DECLINE))


def _json_body(request: HttpRequest) -> dict[str, object]:
    try:
        body = json.loads(request.body)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@localized
@never_cache
@require_POST
def applepay_validate(request: HttpRequest, public_id: str) -> HttpResponse:
    """``onvalidatemerchant``: the browser hands us Apple's validation URL."""
    from madoguchi.kessai.providers.applepay.provider import MerchantValidationError

    if not _enabled(PaymentMethod.APPLE_PAY):
        raise Http404("Apple Pay is not enabled")
    _payment_for_session(request, public_id)
    provider = get_registry().get(PaymentMethod.APPLE_PAY)
    try:
        session = provider.validate_merchant(  # type: ignore[attr-defined]
            validation_url=str(_json_body(request).get("validationURL", ""))
        )
    except MerchantValidationError:
        return JsonResponse({"error": "merchant_validation_failed"}, status=502)
    return JsonResponse(session)


@localized
@never_cache
@require_POST
def applepay_authorize(request: HttpRequest, public_id: str) -> HttpResponse:
    """``onpaymentauthorized``: the token, as JSON from applepay.js."""
    if not _enabled(PaymentMethod.APPLE_PAY):
        raise Http404("Apple Pay is not enabled")
    payment = _payment_for_session(request, public_id)
    status, redirect, error = _applepay_pay(request, payment, _json_body(request).get("token"))
    return JsonResponse({"redirect": redirect, "error": error}, status=status)


@csrf_exempt  # posted by the simulator's sheet (demo mode only; same site)
@localized
@never_cache
@require_POST
def applepay_demo(request: HttpRequest, public_id: str) -> HttpResponse:
    if not settings.KESSAI_APPLEPAY_DEMO_URL:
        raise Http404("demo mode is off")
    if not _enabled(PaymentMethod.APPLE_PAY):
        raise Http404("Apple Pay is not enabled")
    payment = _payment_for_session(request, public_id)
    try:
        token = json.loads(request.POST.get("token", ""))
    except ValueError:
        token = None
    _status, redirect, error = _applepay_pay(request, payment, token)
    if redirect:
        return HttpResponseRedirect(redirect)
    return _to_page(request, payment, kind="message", text=error)
