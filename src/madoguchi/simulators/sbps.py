"""SBPS simulator: stands in for SoftBank Payment Service, on both of SBPS's
documented interfaces, written from SBPS's documents (as implemented by the
open-source client ``wozaki/sbpayment.rb``) and not from our client: the
import-linter contract forbids this module ``madoguchi.sbps``.

Link type (リンク型):

- ``POST /f01/FepBuyInfoReceive.do``: the purchase request (A01-1), a
  Shift_JIS form whose ``sps_hashcode`` is checked against the merchant's
  hash key in the merchant's hash character set; then SBPS's payment page.
- On payment, the purchase result (A03-1) is posted server to server to
  ``pagecon_url`` and must be answered ``OK,`` (anything else is recorded as
  refused and resent by ``POST /_sim/sbps/resend``); the browser returns to
  ``success_url`` with a copy of the result (a form post), or to
  ``cancel_url`` / ``error_url``.

API type (API型): ``POST /api/xmlapi.do``, Basic authentication (merchant id
and service id joined, the hash key as password, as in SBPS's sandbox), XML in
Shift_JIS: 与信 ``ST01-00111-101``, 売上 ``ST02-00101-101``, 与信取消
``ST02-00305-101``, 返金 ``ST02-00303-101``, 部分返金 ``ST02-00307-101``,
決済結果参照 ``MG01-00101-101``.

Test control (``POST /_sim/sbps/control``, JSON): ``{"notification":
"deliver" | "drop" | "duplicate", "decline_next": true, "error_next": true,
"lose_next_answer": n, "lose_answer_of": request id}`` — ``drop`` loses the
next notification, ``duplicate`` sends it twice, ``error_next`` ends the next
link payment at the error URL with an NG result, ``lose_next_answer``
processes the next n API requests and then answers HTTP 504 (a timeout: the
outcome is unknown to the caller), ``lose_answer_of`` does so for the next
request of that id (say the sale after an answered authorisation).
``GET /_sim/sbps/books`` lists transactions and notifications;
``POST /_sim/sbps/reset`` forgets everything.

Card numbers are looked at in memory and never kept (last four only).
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote_plus
from zoneinfo import ZoneInfo

import httpx
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from madoguchi.platform.http import make_client

logger = logging.getLogger(__name__)
JST = ZoneInfo("Asia/Tokyo")

# --- SBPS's field definitions --------------------------------------------------

# A01-1 購入要求 (one-time charge): every tag in this order; the hash follows it.
PURCHASE_REQUEST = [
    "pay_method", "merchant_id", "service_id", "cust_code", "sps_cust_no", "sps_payment_no",
    "order_id", "item_id", "pay_item_id", "item_name", "tax", "amount", "pay_type",
    "auto_charge_type", "service_type", "div_settele", "last_charge_month", "camp_type",
    "tracking_id", "terminal_type", "success_url", "cancel_url", "error_url", "pagecon_url",
    "free1", "free2", "free3", "free_csv", "request_date", "limit_second",
]  # fmt: skip
REQUIRED = ["merchant_id", "service_id", "cust_code", "order_id", "item_id", "amount",
            "success_url", "cancel_url", "error_url", "pagecon_url", "request_date"]  # fmt: skip
# A03-1 購入結果通知, in SBPS's order for the hash (sent in any order).
PURCHASE_RESULT = [
    "pay_method", "merchant_id", "service_id", "cust_code", "sps_cust_no", "sps_payment_no",
    "order_id", "item_id", "pay_item_id", "item_name", "tax", "amount", "pay_type",
    "auto_charge_type", "service_type", "div_settele", "last_charge_month", "camp_type",
    "tracking_id", "terminal_type", "free1", "free2", "free3", "request_date",
    "res_pay_method", "res_result", "res_tracking_id", "res_sps_cust_no", "res_sps_payment_no",
    "res_payinfo_key", "res_payment_date", "res_err_code", "res_date", "limit_second",
]  # fmt: skip
LINK_METHODS = {"credit": "クレジットカード", "credit3d2": "クレジットカード（3-Dセキュア）",
                "paypay": "PayPay", "applepay": "Apple Pay"}  # fmt: skip

# API requests: the elements of each, in order (nested ones by path); the hash
# is over the values in this order, absent elements counting as empty.
_TRANSACTION = ["merchant_id", "service_id", "sps_transaction_id", "tracking_id",
                "processing_datetime"]  # fmt: skip
API_FIELDS: dict[str, list[str]] = {
    "ST01-00111-101": [
        "merchant_id", "service_id", "cust_code", "order_id", "item_id", "item_name", "tax",
        "amount", "free1", "free2", "free3", "order_rowno", "sps_cust_info_return_flg",
        "pay_method_info/cc_number", "pay_method_info/cc_expiration",
        "pay_method_info/security_code", "pay_method_info/dealings_type",
        "pay_method_info/divide_times", "pay_option_manage/cust_manage_flg",
        "pay_option_manage/cardbrand_return_flg", "encrypted_flg", "request_date",
        "limit_second",
    ],
    "ST02-00101-101": [*_TRANSACTION, "request_date", "limit_second"],
    "ST02-00305-101": [*_TRANSACTION, "request_date", "limit_second"],
    "ST02-00303-101": [*_TRANSACTION, "request_date", "limit_second"],
    "ST02-00307-101": [*_TRANSACTION, "pay_option_manage/amount", "request_date",
                       "limit_second"],
    "MG01-00101-101": [
        "merchant_id", "service_id", "sps_transaction_id", "tracking_id", "response_info_type",
        "pay_option_manage/cardbrand_return_flg", "encrypted_flg", "request_date",
        "limit_second",
    ],
    # 3DS認証要求 and 決済要求（3DS認証情報付加・認証結果ID指定）, as public SBPS
    # clients send them (docs/sbps.md#3-d-secure-api-type).
    "TA02-00101-101": [
        "merchant_id", "service_id", "cust_code", "order_id", "item_id", "amount",
        "pay_method_info/cc_number", "pay_method_info/cc_expiration",
        "pay_method_info/security_code", "pay_option_manage/token",
        "pay_option_manage/token_key", "pay_option_manage/tds_info_token",
        "pay_option_manage/tds_info_token_key", "pay_option_manage/ok_return_url",
        "pay_option_manage/ng_return_url", "encrypted_flg", "request_date", "limit_second",
    ],
    "ST01-00118-101": [
        "merchant_id", "service_id", "cust_code", "order_id", "item_id", "item_name", "tax",
        "amount", "free1", "free2", "free3", "sps_cust_info_return_flg",
        "pay_method_info/dealings_type", "pay_method_info/divide_times",
        "pay_option_manage/cust_manage_flg", "pay_option_manage/cardbrand_return_flg",
        "pay_option_manage/tds_authentication_id", "encrypted_flg", "request_date",
        "limit_second",
    ],
}  # fmt: skip
CONTAINERS = {"dtls", "pay_method_info", "pay_option_manage"}
MIXED = {"item_name", "free1", "free2", "free3"}  # Base64 of Shift_JIS in the XML

# Test cards -> SBPS error type for credit (101): 23 使用不可, 22 限度額超過,
# 27 番号・有効期限誤り, 61 セキュリティコード誤り, 21 クレジットセンターエラー.
CARD_ERRORS = {
    "4000000000000002": "23",
    "4000000000009995": "22",
    "4000000000000069": "27",
    "4000000000000127": "61",
    "4000000000000119": "21",
}
# EMV 3-D Secure 2: these ask the cardholder for a one-time code on the
# simulated issuer page; every other card is authenticated frictionless.
CHALLENGE_NUMBERS = {"4000000000003220", "5200000000003225"}
TDS_SECONDS = 600  # an authentication nobody finishes ends after this
# The authorisation's answer for an authentication that did not succeed. The
# public sources give no 3-D Secure error codes: these follow SBPS's shape
# (method 101, type, item) with types of the simulator's own (docs/sbps.md).
TDS_PENDING = "101T0999"  # not finished yet
TDS_FAILED = "101T1999"  # wrong one-time code
TDS_EXPIRED = "101T2999"  # nobody finished it in time
TDS_ABANDONED = "101T3999"  # the cardholder cancelled on the issuer's page
BRANDS = [("4", "V"), ("51", "M"), ("52", "M"), ("53", "M"), ("54", "M"), ("55", "M"),
          ("35", "J"), ("34", "A"), ("37", "A"), ("36", "D")]  # fmt: skip


@dataclass
class SbpsState:
    # (merchant_id, service_id) -> hash key and character set, from settings.
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by tracking id
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # payment page, by token
    notifications: list[dict[str, Any]] = field(default_factory=list)
    notification: str = "deliver"  # deliver | drop | duplicate
    decline_next: bool = False
    error_next: bool = False
    lose_next_answer: int = 0
    lose_answer_of: set[str] = field(default_factory=set)  # request ids
    # 3-D Secure authentications by id: the decision on the card (never the number).
    authentications: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_url: str = ""  # the simulator's address as its caller reached it (redirect_url)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.transactions.clear()
            self.sessions.clear()
            self.notifications.clear()
            self.notification, self.decline_next, self.error_next = "deliver", False, False
            self.lose_next_answer = 0
            self.lose_answer_of.clear()
            self.authentications.clear()


STATE = SbpsState()


def merchants() -> dict[tuple[str, str], dict[str, str]]:
    """``SBPS_SIMULATOR_MERCHANTS``: ``mid:sid:hashkey:charset`` separated by ``;``."""
    found = {}
    for entry in settings.SBPS_SIMULATOR_MERCHANTS.split(";"):
        if entry.strip():
            mid, sid, key, charset = entry.strip().split(":")
            found[(mid, sid)] = {"hash_key": key, "charset": charset}
    return found


# SBPS's "Shift_JIS" is Windows-31J (cp932): ①, 髙 and ㈱ are in it.
SJIS = "cp932"


def _codec(charset: str) -> str:
    return {"Shift_JIS": SJIS, "UTF-8": "utf-8"}[charset]


def _sha1(values: list[str], key: str, charset: str) -> str:
    text = "".join(v.strip() for v in values) + key
    return hashlib.sha1(text.encode(_codec(charset)), usedforsecurity=False).hexdigest()


def _now() -> datetime:
    return datetime.now(JST)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y%m%d%H%M%S")


def _fresh(request_date: str, limit_second: str) -> bool:
    try:
        sent = datetime.strptime(request_date, "%Y%m%d%H%M%S").replace(tzinfo=JST)
    except ValueError:
        return False
    limit = int(limit_second) if limit_second.isdigit() else 600
    return abs((_now() - sent).total_seconds()) <= limit


def _brand(number: str) -> str:
    return next((code for prefix, code in BRANDS if number.startswith(prefix)), "")


def _luhn(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return len(number) >= 12 and total % 10 == 0


def _new_tracking_id() -> str:
    return str(secrets.randbelow(10**14)).zfill(14)


# --- link type -------------------------------------------------------------------

# Plain, readable and accessible without any asset: an inline style (the
# simulator sends no CSP), one column on a phone, visible focus, labels above
# their boxes and the expiry's format said in the label itself.
PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}｜SBペイメントサービス（シミュレーター）</title>
<style>
body {{ margin: 0; font: 16px/1.7 system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif;
  color: #1a1a1a; background: #f3f4f6; }}
header {{ background: #1f3a5f; color: #fff; padding: .75rem 1rem; }}
header p {{ margin: 0; font-size: .9rem; }}
main {{ max-width: 36rem; margin: 1.5rem auto; padding: 1.5rem; background: #fff;
  border: 1px solid #d1d5db; border-radius: .5rem; }}
h1 {{ font-size: 1.5rem; margin-top: 0; }}
h2 {{ font-size: 1.2rem; margin: 1.5rem 0 .5rem; }}
dl.order {{ display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }}
dl.order dt {{ font-weight: bold; }} dl.order dd {{ margin: 0; }}
form {{ margin: 1rem 0; }}
label {{ display: block; font-weight: bold; margin-top: 1rem; }}
.hint {{ display: block; font-weight: normal; color: #4b5563; font-size: .9rem; }}
input {{ display: block; width: 100%; max-width: 20rem; box-sizing: border-box; margin-top: .25rem;
  padding: .5rem; font-size: 1rem; border: 2px solid #4b5563; border-radius: .25rem; }}
button {{ margin: 1rem .5rem 0 0; padding: .6rem 1.25rem; font-size: 1rem; border-radius: .25rem;
  border: 2px solid #1f3a5f; background: #1f3a5f; color: #fff; cursor: pointer; }}
button.secondary, form.cancel button {{ background: #fff; color: #1f3a5f; }}
:focus-visible {{ outline: 3px solid #f59e0b; outline-offset: 2px; }}
#error, #done {{ padding: .75rem 1rem; border-left: 4px solid #b91c1c; background: #fef2f2;
  color: #7f1d1d; }}
#done {{ border-color: #15803d; background: #f0fdf4; color: #14532d; }}
</style></head>
<body><header><p>開発用シミュレーターです。SBペイメントサービスの決済画面の代わりです。</p></header>
<main>
<h1>{title}</h1>
{body}
</main></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(PAGE.format(title=escape(title), body=body), status=status)


def _read_form(body: bytes) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("ascii"), keep_blank_values=True,
                                 encoding=SJIS, errors="strict"):  # fmt: skip
        fields.setdefault(name, []).append(value)
    return fields


@csrf_exempt
def purchase_request(request: HttpRequest) -> HttpResponse:
    """A01-1: check the request like SBPS does, then show the payment page."""
    if request.method != "POST":
        return _page("エラー", "<p>不正なアクセスです。</p>", status=405)
    try:
        raw = _read_form(request.body)
    except (UnicodeError, ValueError):
        return _page("エラー", "<p id='error'>文字コードが不正です（Shift_JIS）。</p>", 400)
    if any(len(values) > 1 for values in raw.values()):
        return _page("エラー", "<p id='error'>項目が重複しています。</p>", 400)
    fields = {name: values[0] for name, values in raw.items()}
    unknown = set(fields) - set(PURCHASE_REQUEST) - {"sps_hashcode"}
    missing = [name for name in PURCHASE_REQUEST if name not in fields]
    if unknown or missing:
        text = f"項目が不正です：{', '.join(sorted(unknown) + missing)}"
        return _page("エラー", f"<p id='error'>{escape(text)}</p>", 400)
    merchant = merchants().get((fields["merchant_id"], fields["service_id"]))
    if merchant is None:
        return _page("エラー", "<p id='error'>マーチャントID・サービスIDが不正です。</p>", 400)
    expected = _sha1([fields[name] for name in PURCHASE_REQUEST], merchant["hash_key"],
                     merchant["charset"])  # fmt: skip
    if not hmac.compare_digest(expected, fields.get("sps_hashcode", "").lower()):
        return _page("エラー", "<p id='error'>チェックサム（ハッシュ値）が不正です。</p>", 400)
    if any(not fields[name] for name in REQUIRED) or not fields["amount"].isdigit():
        return _page("エラー", "<p id='error'>必須項目が不足しています。</p>", 400)
    if not _fresh(fields["request_date"], fields["limit_second"]):
        return _page("エラー", "<p id='error'>リクエストの有効期限が切れています。</p>", 400)
    methods = [m for m in fields["pay_method"].split(",") if m] or list(LINK_METHODS)
    if any(m not in LINK_METHODS for m in methods):
        return _page("エラー", "<p id='error'>支払方法が不正です。</p>", 400)
    with STATE.lock:
        paid = any(
            t["order_id"] == fields["order_id"] and t["merchant"] == fields["merchant_id"]
            and t["status"] != "cancelled"
            for t in STATE.transactions.values()
        )  # fmt: skip
        if paid:
            return _page("エラー", "<p id='error'>この購入IDは決済済みです。</p>", 400)
        token = secrets.token_urlsafe(16)
        STATE.sessions[token] = {"fields": fields, "methods": methods, "done": False}
    return HttpResponseRedirect(f"/f01/pay/{token}", status=303)


WALLETS = (("paypay", "PayPayで支払う"), ("applepay", "Apple Payで支払う"))


def _payment_form(token: str, session: dict[str, Any], error: str = "") -> str:
    f = session["fields"]
    parts = [
        "<dl class='order'>"
        f"<dt>お支払い金額</dt><dd><strong id='amount'>{int(f['amount']):,}円</strong></dd>"
        f"<dt>購入ID</dt><dd id='order-id'>{escape(f['order_id'])}</dd>"
        f"<dt>商品名</dt><dd id='item-name'>{escape(f['item_name'])}</dd></dl>",
    ]
    if error:
        parts.append(f"<p id='error' role='alert'>{escape(error)}</p>")
    methods = session["methods"]
    if {"credit", "credit3d2"} & set(methods):
        method = "credit3d2" if "credit3d2" in methods else "credit"
        parts.append(
            f"<form method='post' aria-labelledby='card-heading'>"
            f"<input type='hidden' name='method' value='{method}'>"
            "<h2 id='card-heading'>クレジットカード</h2>"
            "<label for='cc-number'>カード番号</label>"
            "<input name='cc_number' id='cc-number' inputmode='numeric' autocomplete='off'>"
            "<label for='cc-expiration'>有効期限</label>"
            "<span class='hint' id='cc-expiration-hint'>年4桁と月2桁を続けて（例：203012）</span>"
            "<input name='cc_expiration' id='cc-expiration' inputmode='numeric'"
            " maxlength='6' autocomplete='off' aria-describedby='cc-expiration-hint'>"
            "<label for='security-code'>セキュリティコード</label>"
            "<input name='security_code' id='security-code' inputmode='numeric'"
            " maxlength='4' autocomplete='off'>"
            "<button type='submit' id='pay-card'>カードで支払う</button></form>"
        )
    wallets = [(c, label) for c, label in WALLETS if c in methods]
    if wallets:
        parts.append("<h2>その他の支払方法</h2>")
    for code, label in wallets:
        parts.append(
            f"<form method='post'><input type='hidden' name='method' value='{code}'>"
            f"<button type='submit' id='pay-{code}'>{label}</button></form>"
        )
    parts.append(
        f"<form method='post' class='cancel' action='/f01/pay/{token}/cancel'>"
        "<button type='submit' id='cancel'>支払いをやめて戻る</button></form>"
    )
    return "".join(parts)


@csrf_exempt
def payment_page(request: HttpRequest, token: str) -> HttpResponse:
    with STATE.lock:
        session = STATE.sessions.get(token)
    if session is None or session["done"]:
        return _page("エラー", "<p id='error'>この決済画面は無効です。</p>", 404)
    if request.method != "POST":
        return _page("お支払い", _payment_form(token, session))
    method = request.POST.get("method", "")
    if method not in session["methods"] and not (
        method == "credit" and "credit3d2" in session["methods"]
    ):
        return _page("お支払い", _payment_form(token, session, "支払方法を選んでください。"), 400)
    with STATE.lock:
        error_next, STATE.error_next = STATE.error_next, False
        decline_next, STATE.decline_next = STATE.decline_next, False
    if method == "paypay" and request.POST.get("approve") != "yes":
        # Stands in for the PayPay app's approval screen.
        return _page(
            "PayPay",
            "<p>PayPayアプリの確認画面の代わりです。</p>"
            f"<p>お支払い金額：{int(session['fields']['amount']):,}円</p>"
            "<form method='post'><input type='hidden' name='method' value='paypay'>"
            "<input type='hidden' name='approve' value='yes'>"
            "<button type='submit' id='paypay-approve'>PayPayで承認する</button></form>",
        )
    last4 = ""
    if method in ("credit", "credit3d2"):
        number = request.POST.get("cc_number", "").replace(" ", "")
        expiration = request.POST.get("cc_expiration", "")
        if not (number.isdigit() and _luhn(number) and _brand(number)):
            return _page(
                "お支払い", _payment_form(token, session, "カード番号が正しくありません。"), 400
            )
        if len(expiration) != 6 or not expiration.isdigit() or expiration < _now().strftime("%Y%m"):
            return _page(
                "お支払い", _payment_form(token, session, "有効期限が正しくありません。"), 400
            )
        if number in CARD_ERRORS or decline_next:
            # SBPS keeps the citizen on its page after a decline: try another card.
            return _page(
                "お支払い",
                _payment_form(
                    token, session, "このカードはご利用になれません。別のカードをお試しください。"
                ),
                402,
            )
        last4 = number[-4:]
    if error_next:
        return _finish(token, session, method=method, ok=False, last4=last4)
    return _finish(token, session, method=method, ok=True, last4=last4)


def _finish(
    token: str, session: dict[str, Any], *, method: str, ok: bool, last4: str
) -> HttpResponse:
    fields = session["fields"]
    merchant = merchants()[(fields["merchant_id"], fields["service_id"])]
    now = _now()
    tracking_id = _new_tracking_id()
    if ok:
        with STATE.lock:
            STATE.transactions[tracking_id] = {
                "tracking_id": tracking_id,
                "sps_transaction_id": "",
                "interface": "link",
                "merchant": fields["merchant_id"],
                "service": fields["service_id"],
                "order_id": fields["order_id"],
                "method": method,
                "amount": int(fields["amount"]),
                "refunded": 0,
                "refunds": [],
                "status": "sold",
                "commit_status": "1",
                "payment_status": "1",
                "last4": last4,
                "at": now.isoformat(),
            }
    result = {name: fields.get(name, "") for name in PURCHASE_RESULT}
    result.update(
        res_pay_method=method,
        res_result="OK" if ok else "NG",
        res_tracking_id=tracking_id if ok else "",
        res_payment_date=_stamp(now) if ok else "",
        res_err_code="" if ok else "10136999",
        res_date=_stamp(now),
    )
    result["sps_hashcode"] = _sha1([result[n] for n in PURCHASE_RESULT], merchant["hash_key"],
                                   merchant["charset"])  # fmt: skip
    with STATE.lock:
        session["done"] = True
        mode = STATE.notification
        if mode != "deliver":
            STATE.notification = "deliver"  # a fault affects one notification
    if mode == "drop":
        _record(fields["pagecon_url"], result, answer="(lost)")
    else:
        for _ in range(2 if mode == "duplicate" else 1):
            _notify(fields["pagecon_url"], result)
    target = fields["success_url"] if ok else fields["error_url"]
    return _return_page(target, result)


def _encode(result: dict[str, str]) -> bytes:
    return "&".join(
        f"{quote_plus(k, encoding=SJIS)}={quote_plus(v, encoding=SJIS)}" for k, v in result.items()
    ).encode("ascii")


def _record(url: str, result: dict[str, str], *, answer: str) -> None:
    with STATE.lock:
        STATE.notifications.append(
            {"url": url, "order_id": result["order_id"], "res_result": result["res_result"],
             "res_tracking_id": result["res_tracking_id"],
            "res_payment_date": result["res_payment_date"], "answer": answer, "result": result}
        )  # fmt: skip


def _notify(url: str, result: dict[str, str]) -> str:
    """Post the result; SBPS expects exactly ``OK,`` (or ``NG,<reason>``)."""
    try:
        with make_client() as client:
            response = client.post(
                url,
                content=_encode(result),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=Shift_JIS"},
            )
        answer = response.content.decode(SJIS, errors="replace")
    except httpx.HTTPError as exc:
        answer = f"(unreachable: {type(exc).__name__})"
    logger.info("sbps pagecon -> %s", answer[:40])
    _record(url, result, answer=answer)
    return answer


def _return_page(target: str, result: dict[str, str]) -> HttpResponse:
    inputs = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in result.items()
    )
    body = (
        ("<p id='done'>お支払いが完了しました。</p>" if result["res_result"] == "OK"
         else "<p id='error'>お支払いを完了できませんでした。</p>")
        + f"<form id='back' method='post' action='{escape(target)}' accept-charset='Shift_JIS'>"
        f"{inputs}<button type='submit' id='back-button'>加盟店へ戻る</button></form>"
    )  # fmt: skip
    return _page("お支払い結果", body)


@csrf_exempt
def payment_cancel(request: HttpRequest, token: str) -> HttpResponse:
    with STATE.lock:
        session = STATE.sessions.get(token)
        if session is None or session["done"]:
            return _page("エラー", "<p id='error'>この決済画面は無効です。</p>", 404)
        session["done"] = True
    return HttpResponseRedirect(session["fields"]["cancel_url"], status=303)


# --- API type --------------------------------------------------------------------


def _xml_answer(request_id: str, values: list[tuple[str, Any]]) -> HttpResponse:
    def render(items: list[tuple[str, Any]]) -> str:
        out = []
        for name, value in items:
            if isinstance(value, list):
                out.append(f"<{name}>{render(value)}</{name}>")
            elif value == "":
                out.append(f"<{name}/>")
            else:
                out.append(f"<{name}>{escape(str(value))}</{name}>")
        return "".join(out)

    document = (
        "<?xml version='1.0' encoding='Shift_JIS' ?>\n"
        f'<sps-api-response id="{request_id}">{render(values)}</sps-api-response>\n'
    )
    return HttpResponse(document.encode(SJIS), content_type="text/xml;charset=Shift_JIS")


def _ng(request_id: str, code: str) -> HttpResponse:
    now = _stamp(_now())
    return _xml_answer(request_id, [("res_result", "NG"), ("res_sps_transaction_id", ""),
                                    ("res_process_date", now), ("res_err_code", code),
                                    ("res_date", now)])  # fmt: skip


def _read_xml(body: bytes) -> tuple[str, dict[str, str], list[str]]:
    """Request id, values by path, and the paths in document order."""
    text = body.decode(SJIS)
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    root = fromstring(text)
    if root.tag != "sps-api-request":
        raise ValueError("root")
    values: dict[str, str] = {}
    order: list[str] = []
    for child in root:
        if child.tag in CONTAINERS:
            for leaf in child:
                path = f"{child.tag}/{leaf.tag}"
                values[path] = leaf.text or ""
                order.append(path)
        else:
            values[child.tag] = child.text or ""
            order.append(child.tag)
    return root.get("id", ""), values, order


def _basic_auth(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeError):
        return None
    return user, password


@csrf_exempt
def xml_api(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        request_id, values, order = _read_xml(request.body)
    except (ValueError, SyntaxError, UnicodeError):
        return _ng("", "99900000")  # XML 形式エラー
    spec = API_FIELDS.get(request_id)
    if spec is None:
        return _ng(request_id, "99902000")  # API リクエスト ID 存在エラー
    merchant = merchants().get((values.get("merchant_id", ""), values.get("service_id", "")))
    auth = _basic_auth(request)
    if (
        merchant is None
        or auth is None
        or not (
            hmac.compare_digest(auth[0], values["merchant_id"] + values["service_id"])
            and hmac.compare_digest(auth[1], merchant["hash_key"])
        )
    ):
        return HttpResponse("Unauthorized", status=401, headers={"WWW-Authenticate": "Basic"})
    if [p for p in order if p != "sps_hashcode"] != [p for p in spec if p in values]:
        return _ng(request_id, "10100000")  # elements out of SBPS's order
    decoded = dict(values)
    for name in MIXED:
        if decoded.get(name):
            decoded[name] = base64.b64decode(decoded[name]).decode(SJIS)
    expected = _sha1([decoded.get(p, "") for p in spec], merchant["hash_key"], "Shift_JIS")
    if not hmac.compare_digest(expected, values.get("sps_hashcode", "").lower()):
        return _ng(request_id, "10109999")  # ハッシュ値エラー
    if not _fresh(values.get("request_date", ""), values.get("limit_second", "")):
        return _ng(request_id, "10110023")  # リクエスト有効期限エラー
    with STATE.lock:
        STATE.base_url = request.build_absolute_uri("/").rstrip("/")
        answer = _API_HANDLERS[request_id](request_id, decoded, values["merchant_id"])
        lose = STATE.lose_next_answer > 0 or request_id in STATE.lose_answer_of
        if STATE.lose_next_answer > 0:
            STATE.lose_next_answer -= 1
        STATE.lose_answer_of.discard(request_id)
    if lose:
        # Processed, but the answer never reaches the caller (a timeout).
        return HttpResponse("Gateway Timeout", status=504)
    return answer


def _find(values: dict[str, str], merchant: str) -> dict[str, Any] | None:
    """The credit card API's transaction (a link-type card sale included:
    the API addresses it by the tracking id of its result notification)."""
    found = STATE.transactions.get(values.get("tracking_id", ""))
    if found is None or found["merchant"] != merchant:
        return None
    if found["method"] not in ("credit", "credit3d2"):
        return None  # PayPay, Apple Pay: not the credit card API's
    wanted = values.get("sps_transaction_id", "")
    if wanted and wanted != found["sps_transaction_id"]:
        return None
    return found


def _ok(request_id: str, *extra: tuple[str, Any]) -> HttpResponse:
    now = _stamp(_now())
    transaction_id = "B" + secrets.token_hex(8).upper() + request_id.replace("-", "")[:12]
    return _xml_answer(request_id, [("res_result", "OK"),
                                    ("res_sps_transaction_id", transaction_id), *extra,
                                    ("res_process_date", now), ("res_err_code", ""),
                                    ("res_date", now)])  # fmt: skip


def _authorize(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    number = v.get("pay_method_info/cc_number", "")
    expiration = v.get("pay_method_info/cc_expiration", "")
    if not v.get("order_id") or not v.get("amount", "").isdigit():
        return _ng(request_id, "10103999")  # 必須エラー
    if not (number.isdigit() and _luhn(number) and _brand(number)):
        return _ng(request_id, "10127200")
    if len(expiration) != 6 or expiration < _now().strftime("%Y%m"):
        return _ng(request_id, "10127201")
    if any(t["order_id"] == v["order_id"] and t["merchant"] == merchant
           for t in STATE.transactions.values()):  # fmt: skip
        return _ng(request_id, "10196999")  # 2 重リクエストエラー
    if STATE.decline_next or number in CARD_ERRORS:
        kind = CARD_ERRORS.get(number, "23")
        STATE.decline_next = False
        return _ng(request_id, f"101{kind}999")
    tracking_id = _new_tracking_id()
    transaction_id = "B" + merchant + secrets.token_hex(10).upper()
    STATE.transactions[tracking_id] = {
        "tracking_id": tracking_id,
        "sps_transaction_id": transaction_id,
        "interface": "api",
        "merchant": merchant,
        "service": v["service_id"],
        "order_id": v["order_id"],
        "method": "credit",
        "amount": int(v["amount"]),
        "refunded": 0,
        "refunds": [],
        "status": "authorized",
        "commit_status": "0",
        "payment_status": "1",
        "last4": number[-4:],
        "expiration": expiration,
        "brand": _brand(number),
        "at": _now().isoformat(),
    }
    now = _stamp(_now())
    return _xml_answer(request_id, [
        ("res_result", "OK"), ("res_sps_transaction_id", transaction_id),
        ("res_tracking_id", tracking_id),
        ("res_pay_method_info", [("cc_company_code", "10035"), ("cardbrand_code", _brand(number)),
                                 ("recognized_no", str(secrets.randbelow(10**6)).zfill(6))]),
        ("res_process_date", now), ("res_err_code", ""), ("res_date", now),
    ])  # fmt: skip


def _commit(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    found = _find(v, merchant)
    if found is None:
        return _ng(request_id, "10139999")  # 与信結果が存在しない
    if found["status"] == "cancelled":
        return _ng(request_id, "10140999")
    if found["commit_status"] == "1":
        return _ng(request_id, "10141999")  # 売上処理が完了済み
    found.update(commit_status="1", status="sold")
    return _ok(request_id)


def _cancel(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    found = _find(v, merchant)
    if found is None:
        return _ng(request_id, "10151999")
    if found["status"] == "cancelled":
        return _ng(request_id, "10152999")
    if found["commit_status"] == "1":
        return _ng(request_id, "10149999")  # sold: use the refund request
    found.update(status="cancelled", payment_status="2")
    return _ok(request_id)


def _refund(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    found = _find(v, merchant)
    if found is None:
        return _ng(request_id, "10144999")
    if found["status"] == "cancelled":
        return _ng(request_id, "10145999")
    if found["commit_status"] != "1":
        return _ng(request_id, "101K0999")  # 売上処理未実施
    remaining = found["amount"] - found["refunded"]
    if request_id == "ST02-00307-101":
        amount = v.get("pay_option_manage/amount", "")
        if not amount.isdigit() or int(amount) < 1:
            return _ng(request_id, "10103999")
        if int(amount) > remaining:
            return _ng(request_id, "101K1999")  # 返金金額の合計が売上時金額を超える
        refunded = int(amount)
    else:
        if found["refunded"]:
            return _ng(request_id, "10146999")  # 返金処理済み
        refunded = found["amount"]
    found["refunded"] += refunded
    # The books: every refund SBPS made, so a test sees one refund, not two.
    found["refunds"].append({"request_id": request_id, "amount": refunded,
                             "at": _now().isoformat()})  # fmt: skip
    if found["refunded"] == found["amount"]:
        found.update(status="refunded", payment_status="3")
    return _ok(request_id)


def _inquire(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    found = _find(v, merchant)
    if found is None:
        return _ng(request_id, "10112027")  # 処理対象トラッキング ID エラー
    detail = [("cc_number", "*" * 12 + found["last4"]),
              ("cc_expiration", found.get("expiration", "")), ("dealings_type", "10"),
              ("divide_times", ""), ("bonus_details_times", "")]  # fmt: skip
    return _ok(
        request_id,
        ("res_status", "0"),
        ("res_pay_method_info", [
            ("res_pay_method_info_detail", detail), ("cc_company_code", "10035"),
            ("cardbrand_code", found.get("brand", "")), ("recognized_no", "123456"),
            ("commit_status", found["commit_status"]),
            ("payment_status", found["payment_status"]),
        ]),
    )  # fmt: skip


def _tds_authenticate(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    """3DS認証要求: remember what the card will get, send the browser to the issuer."""
    number = v.get("pay_method_info/cc_number", "")
    expiration = v.get("pay_method_info/cc_expiration", "")
    ok_url = v.get("pay_option_manage/ok_return_url", "")
    ng_url = v.get("pay_option_manage/ng_return_url", "")
    if not v.get("order_id") or not v.get("amount", "").isdigit() or not (ok_url and ng_url):
        return _ng(request_id, "10103999")  # 必須エラー
    if not (number.isdigit() and _luhn(number) and _brand(number)):
        return _ng(request_id, "10127200")
    if len(expiration) != 6 or expiration < _now().strftime("%Y%m"):
        return _ng(request_id, "10127201")
    if any(t["order_id"] == v["order_id"] and t["merchant"] == merchant
           for t in STATE.transactions.values()):  # fmt: skip
        return _ng(request_id, "10196999")  # 2 重リクエストエラー
    authentication_id = "TDS" + secrets.token_hex(12).upper()
    brand = _brand(number)
    STATE.authentications[authentication_id] = {
        "merchant": merchant,
        "service": v["service_id"],
        "order_id": v["order_id"],
        "amount": int(v["amount"]),
        "status": "pending",
        "challenge": number in CHALLENGE_NUMBERS,
        "code": f"{secrets.randbelow(10**6):06d}",
        # What the authorisation will decide, so the number need not be kept.
        "decline": CARD_ERRORS.get(number, ""),
        "last4": number[-4:],
        "brand": brand,
        "expiration": expiration,
        "eci": "",
        "ok_url": ok_url,
        "ng_url": ng_url,
        "deadline": _now().timestamp() + TDS_SECONDS,
    }
    now = _stamp(_now())
    return _xml_answer(request_id, [
        ("res_result", "OK"), ("res_sps_transaction_id", "B" + secrets.token_hex(10).upper()),
        ("res_tds_authentication_id", authentication_id),
        ("redirect_url", f"{STATE.base_url}/tds2/{authentication_id}"),
        ("res_process_date", now), ("res_err_code", ""), ("res_date", now),
    ])  # fmt: skip


def _tds_expire(found: dict[str, Any]) -> None:
    if found["status"] == "pending" and _now().timestamp() > found["deadline"]:
        found["status"] = "expired"


def _authorize_authenticated(request_id: str, v: dict[str, str], merchant: str) -> HttpResponse:
    """決済要求（3DS認証情報付加・認証結果ID指定）: authorise only what the
    issuer authenticated, once."""
    found = STATE.authentications.get(v.get("pay_option_manage/tds_authentication_id", ""))
    if found is None or found["merchant"] != merchant or found["order_id"] != v.get("order_id"):
        return _ng(request_id, "10112027")
    if not v.get("amount", "").isdigit() or int(v["amount"]) != found["amount"]:
        return _ng(request_id, "10103999")
    _tds_expire(found)
    refused = {"pending": TDS_PENDING, "failed": TDS_FAILED, "expired": TDS_EXPIRED,
               "abandoned": TDS_ABANDONED, "used": "10196999"}  # fmt: skip
    if found["status"] in refused:
        return _ng(request_id, refused[found["status"]])
    found["status"] = "used"
    if STATE.decline_next or found["decline"]:
        kind = found["decline"] or "23"
        STATE.decline_next = False
        return _ng(request_id, f"101{kind}999")
    tracking_id = _new_tracking_id()
    transaction_id = "B" + merchant + secrets.token_hex(10).upper()
    STATE.transactions[tracking_id] = {
        "tracking_id": tracking_id,
        "sps_transaction_id": transaction_id,
        "interface": "api",
        "merchant": merchant,
        "service": v["service_id"],
        "order_id": v["order_id"],
        "method": "credit3d2",
        "amount": found["amount"],
        "refunded": 0,
        "refunds": [],
        "status": "authorized",
        "commit_status": "0",
        "payment_status": "1",
        "last4": found["last4"],
        "expiration": found["expiration"],
        "brand": found["brand"],
        "three_ds": "challenge" if found["challenge"] else "frictionless",
        "eci": found["eci"],
        "at": _now().isoformat(),
    }
    now = _stamp(_now())
    return _xml_answer(request_id, [
        ("res_result", "OK"), ("res_sps_transaction_id", transaction_id),
        ("res_tracking_id", tracking_id),
        ("res_pay_method_info", [("cc_company_code", "10035"), ("cardbrand_code", found["brand"]),
                                 ("recognized_no", str(secrets.randbelow(10**6)).zfill(6))]),
        ("res_process_date", now), ("res_err_code", ""), ("res_date", now),
    ])  # fmt: skip


# ECI of an authenticated EMV 3-D Secure transaction: 05, Mastercard 02.
ECI_AUTHENTICATED = {"M": "02"}

TDS_PAGE = """<p>カード発行会社の認証画面です（開発用シミュレーター：SBペイメントサービス経由の
EMV 3-Dセキュア）。</p>
<p>お支払い金額：{amount}円　カード末尾：{last4}</p>
<p>登録の携帯電話に送信したワンタイムパスワードを入力してください。</p>
<p>（シミュレーター：ワンタイムパスワードは <strong id="otp">{code}</strong> です）</p>
<form method="post">
<label for="otp-input">ワンタイムパスワード</label>
<input id="otp-input" name="code" inputmode="numeric" autocomplete="one-time-code">
<button type="submit" name="action" value="verify">認証する</button>
<button type="submit" name="action" value="cancel">キャンセル</button>
</form>"""


@csrf_exempt
def tds_page(request: HttpRequest, authentication_id: str) -> HttpResponse:
    """Where SBPS's redirect_url takes the cardholder's browser: a frictionless
    authentication returns at once to ok_return_url; a challenge asks for the
    one-time code (one wrong code fails it); the browser goes back to
    ok_return_url or ng_return_url."""
    with STATE.lock:
        found = STATE.authentications.get(authentication_id)
        if found is None:
            return _page("エラー", "<p id='error'>この認証は終了しています。</p>", 404)
        _tds_expire(found)
        eci = ECI_AUTHENTICATED.get(found["brand"], "05")
        if found["status"] == "pending" and not found["challenge"]:
            found.update(status="authenticated", eci=eci)
        if found["status"] == "pending" and request.method == "POST":
            action = request.POST.get("action")
            if action == "verify" and request.POST.get("code", "").strip() == found["code"]:
                found.update(status="authenticated", eci=eci)
            elif action == "cancel":
                found["status"] = "abandoned"
            else:
                found["status"] = "failed"
        if found["status"] != "pending":
            ok = found["status"] in ("authenticated", "used")
            return HttpResponseRedirect(found["ok_url"] if ok else found["ng_url"], status=303)
        body = TDS_PAGE.format(
            amount=f"{found['amount']:,}", last4=escape(found["last4"]), code=found["code"]
        )
    return _page("本人認証（3-Dセキュア）", body)


_API_HANDLERS = {
    "ST01-00111-101": _authorize,
    "ST02-00101-101": _commit,
    "ST02-00305-101": _cancel,
    "ST02-00303-101": _refund,
    "ST02-00307-101": _refund,
    "MG01-00101-101": _inquire,
    "TA02-00101-101": _tds_authenticate,
    "ST01-00118-101": _authorize_authenticated,
}


# --- test control ------------------------------------------------------------------


@csrf_exempt
def control(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    with STATE.lock:
        if body.get("notification") in ("deliver", "drop", "duplicate"):
            STATE.notification = body["notification"]
        if "decline_next" in body:
            STATE.decline_next = bool(body["decline_next"])
        if "error_next" in body:
            STATE.error_next = bool(body["error_next"])
        if "lose_next_answer" in body:
            STATE.lose_next_answer = int(body["lose_next_answer"])
        if "lose_answer_of" in body:
            STATE.lose_answer_of.add(str(body["lose_answer_of"]))
    return JsonResponse({"ok": True})


@csrf_exempt
def resend(request: HttpRequest) -> HttpResponse:
    """Send an order's last notification again (SBPS resends until ``OK,``)."""
    order_id = request.GET.get("order_id", "")
    with STATE.lock:
        sent = [n for n in STATE.notifications if n["order_id"] == order_id]
    if not sent:
        return JsonResponse({"error": "no notification for this order"}, status=404)
    answer = _notify(sent[-1]["url"], sent[-1]["result"])
    return JsonResponse({"answer": answer})


def books(request: HttpRequest) -> HttpResponse:
    with STATE.lock:
        transactions = [
            {**t, "refunds": [dict(r) for r in t["refunds"]]} for t in STATE.transactions.values()
        ]
        notifications = [{k: v for k, v in n.items() if k != "result"} for n in STATE.notifications]
    return JsonResponse({"transactions": transactions, "notifications": notifications})


@csrf_exempt
def reset(request: HttpRequest) -> HttpResponse:
    STATE.reset()
    return JsonResponse({"ok": True})
