"""The link type (リンク型): the purchase request the citizen's browser posts
to SBPS (A01-1), and the purchase result SBPS posts back to the merchant's
``pagecon_url`` server to server (A03-1, 購入結果通知).

Field order is SBPS's: the hash is computed over the values in exactly this
order, and SBPS's forms are posted in Shift_JIS — in practice Windows-31J
(Microsoft's Shift_JIS, Python's ``cp932``), the character set of Japanese
Windows and of SBPS's own pages: it has ①, 髙, ㈱ and the NEC/IBM
extensions that the JIS X 0208 table of Python's ``shift_jis`` refuses."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from .hashcode import hashcode_matches, sps_hashcode

JST = ZoneInfo("Asia/Tokyo")
FORM_CHARSET = "Shift_JIS"
FORM_CODEC = "cp932"  # what "Shift_JIS" means on the wire: Windows-31J

# A01-1 購入要求, one-time charge. ``sps_hashcode`` comes last and is not hashed.
PURCHASE_REQUEST_FIELDS = (
    "pay_method", "merchant_id", "service_id", "cust_code", "sps_cust_no", "sps_payment_no",
    "order_id", "item_id", "pay_item_id", "item_name", "tax", "amount", "pay_type",
    "auto_charge_type", "service_type", "div_settele", "last_charge_month", "camp_type",
    "tracking_id", "terminal_type", "success_url", "cancel_url", "error_url", "pagecon_url",
    "free1", "free2", "free3", "free_csv", "request_date", "limit_second",
)  # fmt: skip

# A03-1 購入結果通知 (pagecon). SBPS sends them in any order; the hash is over this one.
PURCHASE_RESULT_FIELDS = (
    "pay_method", "merchant_id", "service_id", "cust_code", "sps_cust_no", "sps_payment_no",
    "order_id", "item_id", "pay_item_id", "item_name", "tax", "amount", "pay_type",
    "auto_charge_type", "service_type", "div_settele", "last_charge_month", "camp_type",
    "tracking_id", "terminal_type", "free1", "free2", "free3", "request_date",
    "res_pay_method", "res_result", "res_tracking_id", "res_sps_cust_no", "res_sps_payment_no",
    "res_payinfo_key", "res_payment_date", "res_err_code", "res_date", "limit_second",
)  # fmt: skip

# SBPS's names of the payment methods (pay_method / res_pay_method).
PAY_METHOD_CARD = "credit"
PAY_METHOD_CARD_3DS = "credit3d2"  # クレジットカード決済（本人認証サービス（EMV 3-D セキュア））
PAY_METHOD_PAYPAY = "paypay"
PAY_METHOD_APPLE_PAY = "applepay"

RESULT_OK = "OK"
RESULT_NG = "NG"


@dataclass(frozen=True)
class LinkCredentials:
    merchant_id: str
    service_id: str
    hash_key: str
    # The character set agreed with SBPS for the hash: "Shift_JIS" or "UTF-8".
    hash_encoding: str = FORM_CHARSET


class InvalidResult(ValueError):
    """A form that is not a purchase result SBPS could have sent."""


class InvalidHashcode(InvalidResult):
    pass


def sbps_datetime(value: datetime) -> str:
    return value.astimezone(JST).strftime("%Y%m%d%H%M%S")


def parse_sbps_datetime(value: str) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=JST)


def purchase_request(
    *,
    credentials: LinkCredentials,
    pay_methods: Sequence[str],
    cust_code: str,
    order_id: str,
    item_id: str,
    item_name: str,
    amount: int,
    success_url: str,
    cancel_url: str,
    error_url: str,
    pagecon_url: str,
    requested_at: datetime,
    limit_second: int = 600,
) -> list[tuple[str, str]]:
    """The purchase request's fields in SBPS's order, ``sps_hashcode`` last.
    Every documented field is present; unused ones are empty, as SBPS asks."""
    values = dict.fromkeys(PURCHASE_REQUEST_FIELDS, "")
    values.update(
        pay_method=",".join(pay_methods),
        merchant_id=credentials.merchant_id,
        service_id=credentials.service_id,
        cust_code=cust_code,
        order_id=order_id,
        item_id=item_id,
        item_name=item_name,
        amount=str(amount),
        pay_type="0",  # one-time charge
        service_type="0",  # sale (販売)
        terminal_type="0",
        success_url=success_url,
        cancel_url=cancel_url,
        error_url=error_url,
        pagecon_url=pagecon_url,
        request_date=sbps_datetime(requested_at),
        limit_second=str(limit_second),
    )
    fields = [(name, values[name]) for name in PURCHASE_REQUEST_FIELDS]
    hashcode = sps_hashcode(
        (value for _, value in fields), credentials.hash_key, encoding=credentials.hash_encoding
    )
    return [*fields, ("sps_hashcode", hashcode)]


def parse_form(body: bytes, *, charset: str = FORM_CHARSET) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as SBPS sends it (Shift_JIS).
    A field sent twice is refused: it would make the hash ambiguous."""
    pairs = parse_qsl(
        body.decode("ascii"),
        keep_blank_values=True,
        strict_parsing=False,
        encoding=FORM_CODEC if charset == FORM_CHARSET else "utf-8",
        errors="strict",
    )
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise InvalidResult(f"field {name} sent twice")
        fields[name] = value
    return fields


def hashed_values(fields: dict[str, str], order: Iterable[str]) -> list[str]:
    return [fields.get(name, "") for name in order]


@dataclass(frozen=True)
class PurchaseResult:
    """A verified 購入結果通知."""

    fields: dict[str, str]

    @property
    def order_id(self) -> str:
        return self.fields.get("order_id", "")

    @property
    def amount(self) -> int:
        return int(self.fields.get("amount") or 0)

    @property
    def succeeded(self) -> bool:
        return self.fields.get("res_result") == RESULT_OK

    @property
    def pay_method(self) -> str:
        return self.fields.get("res_pay_method", "")

    @property
    def tracking_id(self) -> str:
        return self.fields.get("res_tracking_id", "")

    @property
    def payment_date(self) -> datetime | None:
        return parse_sbps_datetime(self.fields.get("res_payment_date", ""))

    @property
    def error_code(self) -> str:
        return self.fields.get("res_err_code", "")

    @property
    def hashcode(self) -> str:
        return self.fields.get("sps_hashcode", "").lower()


# The result's fields SBPS fills with codes, numbers or dates: each has one
# shape, so no value can run into its neighbour in the unseparated text the
# hash is computed over. The echoed request fields keep the merchant's text.
HASHCODE = re.compile(r"[0-9a-fA-F]{40}")
SBPS_DATETIME = re.compile(r"(\d{14})?")
RESULT_SHAPES = {
    "amount": re.compile(r"\d{1,8}"),
    "request_date": re.compile(r"\d{14}"),
    "limit_second": re.compile(r"\d{0,4}"),
    "res_result": re.compile(rf"{RESULT_OK}|{RESULT_NG}"),
    "res_pay_method": re.compile(r"[a-z0-9_]{0,20}"),
    "res_tracking_id": re.compile(r"[0-9A-Za-z]{0,40}"),
    "res_sps_cust_no": re.compile(r"[0-9A-Za-z]{0,12}"),
    "res_sps_payment_no": re.compile(r"[0-9A-Za-z]{0,3}"),
    "res_payinfo_key": re.compile(r"[0-9A-Za-z]{0,20}"),
    "res_payment_date": SBPS_DATETIME,
    "res_err_code": re.compile(r"[0-9A-Za-z]{0,8}"),
    "res_date": SBPS_DATETIME,
}


def result_shape_errors(fields: dict[str, str]) -> list[str]:
    """What makes ``fields`` something other than a purchase result as SBPS
    sends one: exactly the documented fields and ``sps_hashcode``, no value
    padded with blanks (SBPS's hash strips them, so a padded copy would pass
    for the same result while storing other values), a hash of 40 hex
    digits, SBPS's codes in their shape, and no URL anywhere — a purchase
    request always carries four, a result none, so a request's hash can never
    be passed off as a result's by moving text between fields."""
    errors = []
    names = set(fields)
    expected = {*PURCHASE_RESULT_FIELDS, "sps_hashcode"}
    if unknown := sorted(names - expected):
        errors.append(f"unknown fields {', '.join(unknown)}")
    if missing := [name for name in (*PURCHASE_RESULT_FIELDS, "sps_hashcode") if name not in names]:
        errors.append(f"missing fields {', '.join(missing)}")
    for name, value in fields.items():
        if value != value.strip() or any(ord(c) < 0x20 or c == "\x7f" for c in value):
            errors.append(f"{name} padded or with control characters")
    if not HASHCODE.fullmatch(fields.get("sps_hashcode", "")):
        errors.append("sps_hashcode is not 40 hexadecimal digits")
    for name, shape in RESULT_SHAPES.items():
        if name in fields and not shape.fullmatch(fields[name]):
            errors.append(f"{name} not in SBPS's format")
    for name in ("request_date", "res_payment_date", "res_date"):
        try:
            parse_sbps_datetime(fields.get(name, ""))
        except ValueError:
            errors.append(f"{name} is not a date")
    if any("://" in fields.get(name, "") for name in PURCHASE_RESULT_FIELDS):
        errors.append("a URL in a result")
    return errors


def purchase_result_verify(fields: dict[str, str], credentials: LinkCredentials) -> PurchaseResult:
    """Check the result's shape and hash and that it is addressed to this
    merchant. Raises ``InvalidResult`` (``InvalidHashcode`` for the hash)."""
    if errors := result_shape_errors(fields):
        raise InvalidResult("; ".join(errors))
    values = hashed_values(fields, PURCHASE_RESULT_FIELDS)
    if not hashcode_matches(
        values,
        credentials.hash_key,
        fields["sps_hashcode"],
        encoding=credentials.hash_encoding,
    ):
        raise InvalidHashcode("sps_hashcode does not match")
    if (fields.get("merchant_id"), fields.get("service_id")) != (
        credentials.merchant_id,
        credentials.service_id,
    ):
        raise InvalidResult("addressed to another merchant or service")
    return PurchaseResult(fields=fields)


def notification_answer(*, accepted: bool) -> bytes:
    """What the merchant answers to a 購入結果通知: ``OK,`` or ``NG,`` with a
    fixed word (SBPS retries a notification that was not answered ``OK,``).
    Why a result was refused stays in the merchant's log: the answer goes to
    whoever posted, and names nothing of the merchant's inner workings."""
    return b"OK," if accepted else b"NG,rejected"
