"""PayPay simulator: stands in for PayPay's Open Payment API and for the
PayPay app, on the protocol Kessai's ``PayPayClient`` speaks.

API (each request must carry a valid ``OPA-Auth`` header, checked here by an
implementation independent of Kessai's): ``POST /v2/codes``,
``GET /v2/codes/payments/{merchantPaymentId}``,
``DELETE /v2/payments/{merchantPaymentId}``, ``POST /v2/refunds``,
``GET /v2/refunds/{merchantRefundId}``.

The app: ``/app/codes/{codeId}`` is what scanning the QR code (or following
the deep link) opens; approving there completes the payment, sends PayPay's
webhook to Kessai and returns the browser to the merchant's redirect URL.

Test control (``POST /_sim/paypay/control``): ``{"webhook": "deliver" |
"delay" | "drop", "delay_seconds": n, "decline_next": true,
"expire": merchantPaymentId, "flush": true}``.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from madoguchi.platform.http import make_client

logger = logging.getLogger(__name__)

CODE_VALID_SECONDS = 300  # PayPay's default validity of a dynamic QR code
EPOCH_TOLERANCE = 120


@dataclass
class PayPayState:
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by merchantPaymentId
    codes: dict[str, str] = field(default_factory=dict)  # codeId -> merchantPaymentId
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen_nonces: set[tuple[str, int]] = field(default_factory=set)
    webhook: str = "deliver"  # deliver | delay | drop
    delay_seconds: float = 5.0
    decline_next: bool = False
    held_webhooks: list[dict[str, Any]] = field(default_factory=list)
    sent_webhooks: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()
            self.codes.clear()
            self.refunds.clear()
            self.seen_nonces.clear()
            self.held_webhooks.clear()
            self.sent_webhooks.clear()
            self.webhook, self.delay_seconds, self.decline_next = "deliver", 5.0, False


STATE = PayPayState()


def _answer(code: str, status: int, data: dict[str, Any] | None = None) -> JsonResponse:
    info = {"code": code, "message": code.replace("_", " ").capitalize(), "codeId": "08100001"}
    return JsonResponse({"resultInfo": info, "data": data}, status=status)


def _check_auth(request: HttpRequest) -> str | None:
    """PayPay's check of ``OPA-Auth``; returns an error code or None."""
    header = request.headers.get("Authorization", "")
    prefix = "hmac OPA-Auth:"
    parts = header[len(prefix) :].split(":") if header.startswith(prefix) else []
    if len(parts) != 5:
        return "UNAUTHORIZED"
    api_key, mac, nonce, epoch_text, body_hash = parts
    if not hmac.compare_digest(api_key, settings.PAYPAY_API_KEY) or not epoch_text.isdigit():
        return "UNAUTHORIZED"
    epoch = int(epoch_text)
    if abs(time.time() - epoch) >= EPOCH_TOLERANCE:
        return "UNAUTHORIZED"
    body = request.body
    if body:
        content_type = request.headers.get("Content-Type", "")
        md5 = hashlib.md5(content_type.encode() + body, usedforsecurity=False).digest()
        expected_hash = base64.b64encode(md5).decode()
    else:
        content_type = expected_hash = "empty"
    raw = "\n".join(
        [request.path, request.method or "", nonce, epoch_text, content_type, body_hash]
    )
    expected_mac = base64.b64encode(
        hmac.new(settings.PAYPAY_API_SECRET.encode(), raw.encode(), hashlib.sha256).digest()
    ).decode()
    if not (
        hmac.compare_digest(body_hash, expected_hash) and hmac.compare_digest(mac, expected_mac)
    ):
        return "UNAUTHORIZED"
    with STATE.lock:
        if (nonce, epoch) in STATE.seen_nonces:
            return "UNAUTHORIZED"  # a replayed request
        STATE.seen_nonces.add((nonce, epoch))
    return None


def _api(view: Any) -> Any:
    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (error := _check_auth(request)) is not None:
            return _answer(error, 401)
        if request.headers.get("X-ASSUME-MERCHANT") != settings.PAYPAY_MERCHANT_ID:
            return _answer("UNAUTHORIZED", 401)
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    return wrapped


def _details(payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "paymentId": payment["paymentId"],
        "status": payment["status"],
        "acceptedAt": payment["acceptedAt"],
        "merchantPaymentId": payment["merchantPaymentId"],
        "amount": {"amount": payment["amount"], "currency": "JPY"},
        "requestedAt": payment["requestedAt"],
    }


@_api
def create_code(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _answer("METHOD_NOT_ALLOWED", 405)
    try:
        body = json.loads(request.body)
        merchant_payment_id = str(body["merchantPaymentId"])
        amount = int(body["amount"]["amount"])
        redirect_url = str(body.get("redirectUrl", ""))
        valid = (
            body["codeType"] == "ORDER_QR"
            and body["amount"]["currency"] == "JPY"
            and 0 < len(merchant_payment_id) <= 64
            and amount > 0
        )
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        return _answer("INVALID_PARAMS", 400)
    code_id = "04-" + secrets.token_hex(8)
    url = request.build_absolute_uri(f"/app/codes/{code_id}")
    with STATE.lock:
        if merchant_payment_id in STATE.payments:
            return _answer("DUPLICATE_DYNAMIC_QR_REQUEST", 400)
        payment = {
            "codeId": code_id,
            "paymentId": None,
            "status": "CREATED",
            "acceptedAt": 0,
            "merchantPaymentId": merchant_payment_id,
            "amount": amount,
            "requestedAt": int(body.get("requestedAt") or time.time()),
            "redirectUrl": redirect_url,
            "expiryDate": int(time.time()) + CODE_VALID_SECONDS,
        }
        STATE.payments[merchant_payment_id] = payment
        STATE.codes[code_id] = merchant_payment_id
    data = {
        "codeId": code_id,
        "url": url,
        "deeplink": "paypay://payment?link=" + quote(url, safe=""),
        "expiryDate": payment["expiryDate"],
        "merchantPaymentId": merchant_payment_id,
        "amount": {"amount": amount, "currency": "JPY"},
        "codeType": "ORDER_QR",
        "redirectUrl": redirect_url,
        "redirectType": "WEB_LINK",
        "isAuthorization": False,
    }
    return _answer("SUCCESS", 201, data)


@_api
def payment_details(request: HttpRequest, merchant_payment_id: str) -> HttpResponse:
    with STATE.lock:
        payment = STATE.payments.get(merchant_payment_id)
        data = _details(payment) if payment else None
    if data is None:
        return _answer("DYNAMIC_QR_PAYMENT_NOT_FOUND", 404)
    return _answer("SUCCESS", 200, data)


@_api
def cancel_payment(request: HttpRequest, merchant_payment_id: str) -> HttpResponse:
    if request.method != "DELETE":
        return _answer("METHOD_NOT_ALLOWED", 405)
    with STATE.lock:
        payment = STATE.payments.get(merchant_payment_id)
        if payment is None:
            return _answer("NO_SUCH_PAYMENT", 404)
        if payment["status"] == "CREATED" and time.time() > payment["expiryDate"]:
            payment["status"] = "EXPIRED"
        elif payment["status"] in ("CREATED", "COMPLETED"):
            # A completed payment is reversed: the money goes back in full.
            payment["status"] = "CANCELED"
    return _answer("REQUEST_ACCEPTED", 202)


def _refunded(payment_id: str) -> int:
    return sum(
        r["amount"]["amount"]
        for r in STATE.refunds.values()
        if r["paymentId"] == payment_id and r["status"] == "COMPLETED"
    )


@_api
def refunds(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _answer("METHOD_NOT_ALLOWED", 405)
    try:
        body = json.loads(request.body)
        refund_id = str(body["merchantRefundId"])
        payment_id = str(body["paymentId"])
        amount = int(body["amount"]["amount"])
    except (ValueError, KeyError, TypeError):
        return _answer("INVALID_PARAMS", 400)
    with STATE.lock:
        if refund_id in STATE.refunds:
            return _answer("SUCCESS", 201, STATE.refunds[refund_id])
        payment = next((p for p in STATE.payments.values() if p["paymentId"] == payment_id), None)
        if payment is None or payment["status"] not in ("COMPLETED", "REFUNDED"):
            return _answer("INVALID_PARAMS", 400)
        if amount < 1 or _refunded(payment_id) + amount > payment["amount"]:
            return _answer("REFUND_AMOUNT_EXCEEDS", 400)
        refund = {
            "status": "COMPLETED",
            "acceptedAt": int(time.time()),
            "merchantRefundId": refund_id,
            "paymentId": payment_id,
            "amount": {"amount": amount, "currency": "JPY"},
            "requestedAt": int(body.get("requestedAt") or time.time()),
        }
        STATE.refunds[refund_id] = refund
        if _refunded(payment_id) == payment["amount"]:
            payment["status"] = "REFUNDED"
    return _answer("SUCCESS", 201, refund)


@_api
def refund_details(request: HttpRequest, merchant_refund_id: str) -> HttpResponse:
    with STATE.lock:
        refund = STATE.refunds.get(merchant_refund_id)
    if refund is None:
        return _answer("NO_SUCH_REFUND_ORDER", 404)
    return _answer("SUCCESS", 200, refund)


# --- webhooks ----------------------------------------------------------------


def _webhook_body(payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "notification_type": "Transaction",
        "merchant_id": settings.PAYPAY_MERCHANT_ID,
        "store_id": "",
        "pos_id": "",
        "order_id": payment["paymentId"],
        "merchant_order_id": payment["merchantPaymentId"],
        "authorized_at": None,
        "paid_at": payment["acceptedAt"],
        "expires_at": None,
        "order_amount": str(payment["amount"]),
        "state": payment["status"],
    }


def _send_webhook(body: dict[str, Any]) -> None:
    try:
        with make_client() as client:
            response = client.post(settings.PAYPAY_WEBHOOK_URL, json=body)
        logger.info("paypay webhook -> %s", response.status_code)
    except httpx.HTTPError as exc:
        logger.warning("paypay webhook failed: %s", type(exc).__name__)
    with STATE.lock:
        STATE.sent_webhooks.append(body)


def _dispatch_webhook(body: dict[str, Any]) -> None:
    with STATE.lock:
        mode, delay = STATE.webhook, STATE.delay_seconds
        if mode == "delay":
            STATE.held_webhooks.append(body)
    if mode == "deliver":
        _send_webhook(body)
    elif mode == "delay" and delay > 0:
        timer = threading.Timer(delay, _flush_webhooks)
        timer.daemon = True
        timer.start()


def _flush_webhooks() -> None:
    with STATE.lock:
        held, STATE.held_webhooks = STATE.held_webhooks, []
    for body in held:
        _send_webhook(body)


# --- the app -----------------------------------------------------------------

APP_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PayPay（シミュレーター）</title></head>
<body><main>
<h1>PayPay</h1>
<p>開発用シミュレーターです。PayPayアプリの支払い確認画面の代わりです。</p>
<p>お支払い金額：<strong id="amount">{amount}円</strong></p>
{body}
</main></body></html>"""


@csrf_exempt
def app(request: HttpRequest, code_id: str) -> HttpResponse:
    """What the PayPay app shows after scanning the code: approve or not."""
    with STATE.lock:
        merchant_payment_id = STATE.codes.get(code_id)
        payment = STATE.payments.get(merchant_payment_id or "")
        if payment is None:
            return HttpResponse("このコードは無効です。", status=404)
        expired = time.time() > payment["expiryDate"]
        status = payment["status"]
    amount = f"{payment['amount']:,}"
    if request.method == "POST" and status == "CREATED" and not expired:
        if request.POST.get("action") == "approve":
            with STATE.lock:
                if STATE.decline_next:
                    STATE.decline_next = False
                    payment["status"] = "FAILED"
                else:
                    payment.update(
                        status="COMPLETED",
                        paymentId=str(secrets.randbelow(10**19)).zfill(19),
                        acceptedAt=int(time.time()),
                    )
                body = _webhook_body(payment)
            _dispatch_webhook(body)
        return HttpResponseRedirect(payment["redirectUrl"])
    if expired and status == "CREATED":
        return HttpResponse(
            APP_PAGE.format(amount=amount, body="<p>このコードは有効期限が切れています。</p>"),
            status=410,
        )
    if status != "CREATED":
        link = f'<p><a href="{escape(payment["redirectUrl"])}">加盟店に戻る</a></p>'
        return HttpResponse(APP_PAGE.format(amount=amount, body="<p>処理済みです。</p>" + link))
    form = (
        '<form method="post">'
        '<button type="submit" name="action" value="approve" id="approve">支払う</button> '
        '<button type="submit" name="action" value="cancel" id="cancel">やめる</button>'
        "</form>"
    )
    return HttpResponse(APP_PAGE.format(amount=amount, body=form))


@csrf_exempt
def control(request: HttpRequest) -> HttpResponse:
    """Test control: webhook behaviour, declines, expiry, flushing delayed webhooks."""
    body = json.loads(request.body or b"{}")
    with STATE.lock:
        if body.get("webhook") in ("deliver", "delay", "drop"):
            STATE.webhook = body["webhook"]
        if "delay_seconds" in body:
            STATE.delay_seconds = float(body["delay_seconds"])
        if "decline_next" in body:
            STATE.decline_next = bool(body["decline_next"])
        # Told to expire: the code can no longer be used and reads EXPIRED.
        # (A code that simply runs out of time still reads CREATED, as at PayPay.)
        for payment in STATE.payments.values():
            if body.get("expire_all") or payment["merchantPaymentId"] == body.get("expire"):
                payment["expiryDate"] = int(time.time()) - 1
                if payment["status"] == "CREATED":
                    payment["status"] = "EXPIRED"
    if body.get("flush"):
        _flush_webhooks()
    return JsonResponse({"ok": True})
