"""Card acquirer sandbox: stands in for the card networks, on the protocol
Kessai's ``AcquirerClient`` speaks.

``POST /v1/authorizations`` authorizes and captures, idempotent by
``idempotency_key``; ``GET /v1/authorizations/{key}`` answers an inquiry;
``POST /v1/authorizations/{key}/void`` reverses a capture in full;
``POST /v1/authorizations/{key}/refunds`` refunds part or all of it,
idempotent by the refund's ``idempotency_key``; ``GET /v1/refunds/{key}``
answers an inquiry about a refund.
Outcomes follow the test card numbers below (docs/test-cards.md). Card numbers
are looked at in memory and never kept: results hold brand and last four only.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

# Number -> decline code. Any other Luhn-valid number of a known brand succeeds.
DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000119": "processing_error",
}
# EMV 3-D Secure 2: these numbers need a challenge at the issuer (a one-time
# code on the simulated issuer page); every other number is frictionless.
CHALLENGE_NUMBERS = {"4000000000003220", "5200000000003225"}
CHALLENGE_SECONDS = 600  # the issuer's challenge lives this long
# Electronic Commerce Indicator of a fully authenticated 3-DS transaction.
ECI_AUTHENTICATED = {"mastercard": "02"}  # the other networks use "05"
SUCCESS_NUMBERS = {
    "visa": "4242424242424242",
    "mastercard": "5555555555554444",
    "jcb": "3530111333300000",
    "amex": "378282246310005",
    "diners": "36227206271667",
}


@dataclass
class AcquirerState:
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Open 3-DS challenges by authorization id: key, one-time code, return URL, deadline.
    challenges: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Fault injection for tests: the next N calls answer 503 / are "lost".
    fail_next: int = 0
    lose_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


STATE = AcquirerState()

# The card networks' own view of number ranges (kept apart from Kessai's code,
# as a real acquirer would be).
NETWORK_PREFIXES = (
    ("amex", ("34", "37")),
    ("jcb", tuple(str(p) for p in range(3528, 3590))),
    ("diners", ("300", "301", "302", "303", "304", "305", "36", "38", "39")),
    ("mastercard", tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721))),
    ("visa", ("4",)),
)


def _network(number: str) -> str | None:
    if not number.isdigit() or not 13 <= len(number) <= 19:
        return None
    checksum = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
        for i, d in enumerate(int(c) for c in reversed(number))
    )
    if checksum % 10:
        return None
    return next((name for name, prefixes in NETWORK_PREFIXES if number.startswith(prefixes)), None)


def _authorized(request: HttpRequest) -> bool:
    return request.headers.get("Authorization") == f"Bearer {settings.ACQUIRER_API_KEY}"


def _decide(
    card: dict[str, Any],
    amount: int,
    *,
    key: str,
    return_url: str,
    request: HttpRequest,
    network_token: dict[str, Any] | None = None,
) -> dict[str, Any]:
    number = str(card.get("number", ""))
    brand = _network(number)
    result: dict[str, Any] = {
        "id": "auth_" + secrets.token_hex(8),
        "amount": amount,
        "brand": brand or "unknown",
        "last4": number[-4:],
        "decline_code": None,
        "eci": None,
        "three_ds": None,
        "action_url": None,
    }
    if brand is None:
        result.update(status="declined", decline_code="invalid_number")
    elif number in DECLINES:
        result.update(status="declined", decline_code=DECLINES[number])
    elif network_token is not None:
        # A wallet (Apple Pay): the device authenticated the cardholder; the
        # cryptogram must be present and the ECI is the device's.
        if not network_token.get("cryptogram"):
            result.update(status="declined", decline_code="invalid_cryptogram")
        else:
            result.update(status="captured", eci=str(network_token.get("eci") or "07"))
    elif number in CHALLENGE_NUMBERS and return_url:
        result.update(
            status="requires_action",
            three_ds="challenge",
            action_url=request.build_absolute_uri(f"/3ds/challenge/{result['id']}"),
        )
        STATE.challenges[result["id"]] = {
            "key": key,
            "code": f"{secrets.randbelow(10**6):06d}",
            "return_url": return_url,
            "deadline": time.time() + CHALLENGE_SECONDS,
        }
    else:
        result.update(
            status="captured", three_ds="frictionless", eci=ECI_AUTHENTICATED.get(brand, "05")
        )
    return result


def _expire_challenge(result: dict[str, Any]) -> None:
    """A challenge nobody answered in time ends declined (checked on every read)."""
    challenge = STATE.challenges.get(result["id"])
    if result["status"] == "requires_action" and challenge and time.time() > challenge["deadline"]:
        result.update(status="declined", decline_code="authentication_timeout")
        STATE.challenges.pop(result["id"], None)


@csrf_exempt
@require_POST
def authorize(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        body = json.loads(request.body)
        key = str(body["idempotency_key"])
        amount = int(body["amount"])
        card = dict(body["card"])
        return_url = str(body.get("return_url") or "")
        network_token = body.get("network_token")
        if network_token is not None:
            network_token = dict(network_token)
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "invalid_request"}, status=400)
    with STATE.lock:
        if STATE.fail_next > 0:
            STATE.fail_next -= 1
            return JsonResponse({"error": "unavailable"}, status=503)
        if key not in STATE.results:
            STATE.results[key] = _decide(
                card,
                amount,
                key=key,
                return_url=return_url,
                request=request,
                network_token=network_token,
            )
        result = STATE.results[key]
        if STATE.lose_next > 0:
            # Processed, but the answer is "lost" on the way back.
            STATE.lose_next -= 1
            return JsonResponse({"error": "gateway_timeout"}, status=504)
    return JsonResponse(result)


@require_GET
def inquire(request: HttpRequest, key: str) -> HttpResponse:
    if not _authorized(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    with STATE.lock:
        result = STATE.results.get(key)
        if result is not None:
            _expire_challenge(result)
    if result is None:
        return JsonResponse({"error": "not_found"}, status=404)
    return JsonResponse(result)


CHALLENGE_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>本人認証（3-Dセキュア） | カード発行会社（シミュレーター）</title></head>
<body><main>
<h1>本人認証（3-Dセキュア）</h1>
<p>カード発行会社の認証画面です（開発用シミュレーター）。</p>
<p>お支払い金額：{amount}円　カード末尾：{last4}</p>
<p>登録の携帯電話に送信したワンタイムパスワードを入力してください。</p>
<p>（シミュレーター：ワンタイムパスワードは <strong id="otp">{code}</strong> です）</p>
<form method="post">
<label for="otp-input">ワンタイムパスワード</label>
<input id="otp-input" name="code" inputmode="numeric" autocomplete="one-time-code">
<button type="submit" name="action" value="verify">認証する</button>
<button type="submit" name="action" value="cancel">キャンセル</button>
</form></main></body></html>"""


@csrf_exempt
def challenge(request: HttpRequest, auth_id: str) -> HttpResponse:
    """The issuer's challenge page (ACS), reached by the citizen's browser.
    One wrong code fails the authentication, as many issuers do after retries."""
    with STATE.lock:
        found = STATE.challenges.get(auth_id)
        result = STATE.results.get(found["key"]) if found else None
        if found is None or result is None:
            return HttpResponse("この認証は終了しています。", status=404)
        _expire_challenge(result)
        if result["status"] != "requires_action":
            return HttpResponseRedirect(found["return_url"])
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "verify" and request.POST.get("code", "").strip() == found["code"]:
                result.update(status="captured", eci=ECI_AUTHENTICATED.get(result["brand"], "05"))
            elif action == "cancel":
                result.update(status="declined", decline_code="authentication_abandoned")
            else:
                result.update(status="declined", decline_code="authentication_failed")
            STATE.challenges.pop(auth_id, None)
            return HttpResponseRedirect(found["return_url"])
        page = CHALLENGE_PAGE.format(
            amount=f"{result['amount']:,}",
            last4=escape(result["last4"]),
            code=found["code"],
        )
    return HttpResponse(page)


@csrf_exempt
@require_POST
def faults(request: HttpRequest) -> HttpResponse:
    """Test control: ``{"fail_next": n, "lose_next": n}``."""
    body = json.loads(request.body or b"{}")
    with STATE.lock:
        STATE.fail_next = int(body.get("fail_next", 0))
        STATE.lose_next = int(body.get("lose_next", 0))
    return JsonResponse({"ok": True})


def _refunded_total(auth_key: str) -> int:
    return sum(
        r["amount"]
        for r in STATE.refunds.values()
        if r["authorization"] == auth_key and r["status"] == "succeeded"
    )


@csrf_exempt
@require_POST
def refund(request: HttpRequest, key: str) -> HttpResponse:
    if not _authorized(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        body = json.loads(request.body)
        refund_key = str(body["idempotency_key"])
        amount = int(body["amount"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "invalid_request"}, status=400)
    with STATE.lock:
        if STATE.fail_next > 0:
            STATE.fail_next -= 1
            return JsonResponse({"error": "unavailable"}, status=503)
        if refund_key not in STATE.refunds:
            auth = STATE.results.get(key)
            result: dict[str, Any] = {
                "id": "rfd_" + secrets.token_hex(8),
                "authorization": key,
                "amount": amount,
                "status": "succeeded",
                "failure_code": None,
            }
            if auth is None or auth["status"] != "captured":
                result.update(status="failed", failure_code="not_captured")
            elif amount < 1 or _refunded_total(key) + amount > auth["amount"]:
                result.update(status="failed", failure_code="amount_exceeds_captured")
            STATE.refunds[refund_key] = result
        result = STATE.refunds[refund_key]
        if STATE.lose_next > 0:
            STATE.lose_next -= 1
            return JsonResponse({"error": "gateway_timeout"}, status=504)
    return JsonResponse(result)


@require_GET
def refund_inquire(request: HttpRequest, key: str) -> HttpResponse:
    if not _authorized(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    with STATE.lock:
        result = STATE.refunds.get(key)
    if result is None:
        return JsonResponse({"error": "not_found"}, status=404)
    return JsonResponse(result)


@csrf_exempt
@require_POST
def void(request: HttpRequest, key: str) -> HttpResponse:
    """Reverse a capture in full (a charge that should never have happened),
    or end a 3-D Secure authentication still waiting for the cardholder."""
    if not _authorized(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    with STATE.lock:
        auth = STATE.results.get(key)
        if auth is None:
            return JsonResponse({"error": "not_found"}, status=404)
        _expire_challenge(auth)
        if auth["status"] == "captured" and _refunded_total(key) == 0:
            auth["status"] = "voided"
        elif auth["status"] == "requires_action":
            # A 3-D Secure authentication the merchant ends: nothing was charged.
            auth.update(status="declined", decline_code="authentication_abandoned")
            STATE.challenges.pop(auth["id"], None)
        return JsonResponse(auth)
