"""The API type (API型): XML over HTTPS with Basic authentication, one
``sps-api-request`` per call, identified by its request id, signed with
``sps_hashcode`` over the values in document order.

Requests used here (the ids SBPS gives them):

- ``ST01-00111-101`` クレジットカード与信要求 (authorisation)
- ``ST02-00101-101`` コミット・売上要求 (sale confirmed: 売上確定)
- ``ST02-00305-101`` 与信取消要求 (cancel before the sale)
- ``ST02-00303-101`` 返金要求 (refund in full)
- ``ST02-00307-101`` 部分返金要求 (partial refund)
- ``MG01-00101-101`` 決済結果参照要求 (inquiry)
- ``TA02-00101-101`` 3DS認証要求 (EMV 3-D Secure authentication: SBPS
  answers with its authentication id and the page the cardholder's browser
  goes to; SBPS sends the browser back to ``ok_return_url`` or
  ``ng_return_url``)
- ``ST01-00118-101`` 決済要求（3DS認証情報付加・認証結果ID指定） (the
  authorisation, carrying the 3-D Secure result by its authentication id)

The 3-D Secure request ids, fields and their order are those of public SBPS
clients (docs/sbps.md#3-d-secure-api-type says which field comes from which).

``encrypted_flg`` is 0: the fields travel in clear inside TLS. SBPS's 3DES
field encryption (``encrypted_flg`` 1) needs a cipher key and IV issued per
merchant and is not implemented here (see docs/sbps.md).
"""

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from xml.etree.ElementTree import Element

import httpx
from defusedxml.ElementTree import fromstring

from .hashcode import sps_hashcode
from .link import FORM_CODEC, sbps_datetime

API_PATH = "/api/xmlapi.do"
AUTHORIZE = "ST01-00111-101"
COMMIT = "ST02-00101-101"
CANCEL = "ST02-00305-101"
REFUND = "ST02-00303-101"
PARTIAL_REFUND = "ST02-00307-101"
INQUIRE = "MG01-00101-101"
TDS_AUTHENTICATE = "TA02-00101-101"
AUTHORIZE_AUTHENTICATED = "ST01-00118-101"
DEALINGS_LUMP_SUM = "10"  # 一括払い

# A field's value: text, or a nested element with its own ordered fields.
# Mixed fields (type M: names, free text) are Base64 of their Shift_JIS bytes in XML.
Fields = list[tuple[str, "str | Fields"]]
MIXED = {"item_name", "free1", "free2", "free3", "dtl_item_name"}


@dataclass(frozen=True)
class ApiCredentials:
    merchant_id: str
    service_id: str
    hash_key: str
    # Basic authentication: SBPS issues it; in their sandbox it is the merchant
    # and service ids joined, with the hash key as the password.
    basic_user: str = ""
    basic_password: str = ""

    @property
    def auth(self) -> tuple[str, str]:
        return (
            self.basic_user or self.merchant_id + self.service_id,
            self.basic_password or self.hash_key,
        )


def _values(fields: Fields) -> Iterator[str]:
    for _, value in fields:
        if isinstance(value, str):
            yield value
        else:
            yield from _values(value)


def _xml(fields: Fields) -> str:
    out = []
    for name, value in fields:
        if isinstance(value, str):
            if value == "":
                continue  # empty fields are left out of the XML, not out of the hash
            text = value
            if name in MIXED:
                text = base64.b64encode(value.encode(FORM_CODEC)).decode()
            out.append(f"<{name}>{escape(text, quote=False)}</{name}>")
        else:
            out.append(f"<{name}>{_xml(value)}</{name}>")
    return "".join(out)


def request_body(request_id: str, fields: Fields, credentials: ApiCredentials) -> bytes:
    """The request document, hash included, in Shift_JIS as SBPS expects."""
    hashcode = sps_hashcode(_values(fields), credentials.hash_key, encoding="Shift_JIS")
    document = (
        '<?xml version="1.0" encoding="Shift_JIS"?>'
        f'<sps-api-request id="{request_id}">'
        f"{_xml([*fields, ('sps_hashcode', hashcode)])}</sps-api-request>"
    )
    return document.encode(FORM_CODEC)


def _flatten(element: Element, prefix: str = "") -> dict[str, str]:
    values: dict[str, str] = {}
    for child in element:
        key = f"{prefix}{child.tag}"
        if len(child):
            values.update(_flatten(child, key + "."))
        else:
            values[key] = (child.text or "").strip()
    return values


@dataclass(frozen=True)
class ApiResponse:
    request_id: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.values.get("res_result") == "OK"

    @property
    def error_code(self) -> str:
        return self.values.get("res_err_code", "")

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def parse_response(body: bytes) -> ApiResponse:
    """An ``sps-api-response`` document (Shift_JIS; expat reads no multi-byte
    encodings, so it is decoded first and the declaration dropped)."""
    text = body.decode(FORM_CODEC).strip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    root = fromstring(text)
    if root.tag != "sps-api-response":
        raise ValueError(f"not an SBPS API response: {root.tag}")
    return ApiResponse(request_id=root.get("id", ""), values=_flatten(root))


@dataclass(frozen=True)
class ErrorCode:
    """``res_err_code``: payment method (3) + error type (2) + item (3)."""

    method: str
    type: str
    item: str

    @classmethod
    def parse(cls, code: str) -> "ErrorCode | None":
        if len(code) != 8:
            return None
        return cls(method=code[:3], type=code[3:5], item=code[5:])


class SbpsApiError(Exception):
    """No usable answer (network, HTTP status, unparseable body): outcome
    unknown, unless ``sent`` is False (no connection was made: SBPS received
    nothing, so the request may be sent again)."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class SbpsApiClient:
    def __init__(
        self,
        *,
        base_url: str,
        credentials: ApiCredentials,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.transport = transport
        self.timeout = timeout or httpx.Timeout(10.0, connect=3.0)

    def _head(self) -> Fields:
        return [
            ("merchant_id", self.credentials.merchant_id),
            ("service_id", self.credentials.service_id),
        ]

    def call(self, request_id: str, fields: Fields) -> ApiResponse:
        body = request_body(request_id, fields, self.credentials)
        try:
            with httpx.Client(
                transport=self.transport, timeout=self.timeout, auth=self.credentials.auth
            ) as client:
                response = client.post(
                    self.base_url + API_PATH,
                    content=body,
                    headers={"Content-Type": "text/xml; charset=Shift_JIS"},
                )
        except httpx.HTTPError as exc:
            # Never the body in the message: an authorisation carries the card.
            unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            raise SbpsApiError(type(exc).__name__, sent=not unsent) from None
        if response.status_code != 200:
            raise SbpsApiError(f"SBPS answered HTTP {response.status_code}")
        try:
            return parse_response(response.content)
        except (ValueError, SyntaxError) as exc:
            raise SbpsApiError(f"unreadable answer: {type(exc).__name__}") from None

    def authorize(
        self,
        *,
        cust_code: str,
        order_id: str,
        item_id: str,
        amount: int,
        cc_number: str,
        cc_expiration: str,
        security_code: str,
        now: datetime,
    ) -> ApiResponse:
        """与信要求 (ST01-00111-101), lump sum, card brand returned."""
        return self.call(
            AUTHORIZE,
            [
                *self._head(),
                ("cust_code", cust_code),
                ("order_id", order_id),
                ("item_id", item_id),
                ("item_name", ""),
                ("tax", ""),
                ("amount", str(amount)),
                ("free1", ""),
                ("free2", ""),
                ("free3", ""),
                ("order_rowno", ""),
                ("sps_cust_info_return_flg", "1"),
                ("dtls", []),
                (
                    "pay_method_info",
                    [
                        ("cc_number", cc_number),
                        ("cc_expiration", cc_expiration),
                        ("security_code", security_code),
                        ("dealings_type", DEALINGS_LUMP_SUM),
                        ("divide_times", ""),
                    ],
                ),
                (
                    "pay_option_manage",
                    [("cust_manage_flg", "0"), ("cardbrand_return_flg", "1")],
                ),
                ("encrypted_flg", "0"),
                ("request_date", sbps_datetime(now)),
                ("limit_second", ""),
            ],
        )

    def tds_authenticate(
        self,
        *,
        cust_code: str,
        order_id: str,
        item_id: str,
        amount: int,
        cc_number: str,
        cc_expiration: str,
        security_code: str,
        ok_return_url: str,
        ng_return_url: str,
        now: datetime,
    ) -> ApiResponse:
        """3DS認証要求 (TA02-00101-101): ``res_tds_authentication_id`` and
        ``redirect_url``, where the cardholder's browser runs EMV 3-D Secure
        (frictionless, or the issuer's challenge). The token fields SBPS's
        JavaScript fills (``token``, ``token_key``, ``tds_info_token``,
        ``tds_info_token_key``) are empty: the card is sent as in 与信要求."""
        return self.call(
            TDS_AUTHENTICATE,
            [
                *self._head(),
                ("cust_code", cust_code),
                ("order_id", order_id),
                ("item_id", item_id),
                ("amount", str(amount)),
                (
                    "pay_method_info",
                    [
                        ("cc_number", cc_number),
                        ("cc_expiration", cc_expiration),
                        ("security_code", security_code),
                    ],
                ),
                (
                    "pay_option_manage",
                    [
                        ("token", ""),
                        ("token_key", ""),
                        ("tds_info_token", ""),
                        ("tds_info_token_key", ""),
                        ("ok_return_url", ok_return_url),
                        ("ng_return_url", ng_return_url),
                    ],
                ),
                ("encrypted_flg", "0"),
                ("request_date", sbps_datetime(now)),
                ("limit_second", ""),
            ],
        )

    def authorize_authenticated(
        self,
        *,
        cust_code: str,
        order_id: str,
        item_id: str,
        amount: int,
        tds_authentication_id: str,
        now: datetime,
    ) -> ApiResponse:
        """決済要求（3DS認証情報付加・認証結果ID指定） (ST01-00118-101): the
        authorisation of a card whose 3-D Secure authentication SBPS holds
        under ``tds_authentication_id``; answered like 与信要求."""
        return self.call(
            AUTHORIZE_AUTHENTICATED,
            [
                *self._head(),
                ("cust_code", cust_code),
                ("order_id", order_id),
                ("item_id", item_id),
                ("item_name", ""),
                ("tax", ""),
                ("amount", str(amount)),
                ("free1", ""),
                ("free2", ""),
                ("free3", ""),
                ("sps_cust_info_return_flg", "1"),
                ("dtls", []),
                ("pay_method_info", [("dealings_type", DEALINGS_LUMP_SUM), ("divide_times", "")]),
                (
                    "pay_option_manage",
                    [
                        ("cust_manage_flg", "0"),
                        ("cardbrand_return_flg", "1"),
                        ("tds_authentication_id", tds_authentication_id),
                    ],
                ),
                ("encrypted_flg", "0"),
                ("request_date", sbps_datetime(now)),
                ("limit_second", ""),
            ],
        )

    def _on_transaction(
        self, request_id: str, *, tracking_id: str, sps_transaction_id: str, now: datetime,
        extra: Fields | None = None,
    ) -> ApiResponse:  # fmt: skip
        return self.call(
            request_id,
            [
                *self._head(),
                ("sps_transaction_id", sps_transaction_id),
                ("tracking_id", tracking_id),
                ("processing_datetime", sbps_datetime(now)),
                *(extra or []),
                ("request_date", sbps_datetime(now)),
                ("limit_second", ""),
            ],
        )

    def commit(self, *, tracking_id: str, sps_transaction_id: str, now: datetime) -> ApiResponse:
        """売上要求 (ST02-00101-101): the authorised amount becomes a sale."""
        return self._on_transaction(
            COMMIT, tracking_id=tracking_id, sps_transaction_id=sps_transaction_id, now=now
        )

    def cancel(self, *, tracking_id: str, sps_transaction_id: str, now: datetime) -> ApiResponse:
        """与信取消要求 (ST02-00305-101)."""
        return self._on_transaction(
            CANCEL, tracking_id=tracking_id, sps_transaction_id=sps_transaction_id, now=now
        )

    def refund(self, *, tracking_id: str, sps_transaction_id: str, now: datetime) -> ApiResponse:
        """返金要求 (ST02-00303-101): the whole sale."""
        return self._on_transaction(
            REFUND, tracking_id=tracking_id, sps_transaction_id=sps_transaction_id, now=now
        )

    def partial_refund(
        self, *, tracking_id: str, sps_transaction_id: str, amount: int, now: datetime
    ) -> ApiResponse:
        """部分返金要求 (ST02-00307-101): ``amount`` of the sale."""
        return self._on_transaction(
            PARTIAL_REFUND,
            tracking_id=tracking_id,
            sps_transaction_id=sps_transaction_id,
            now=now,
            extra=[("pay_option_manage", [("amount", str(amount))])],
        )

    def inquire(self, *, tracking_id: str, sps_transaction_id: str, now: datetime) -> ApiResponse:
        """決済結果参照要求 (MG01-00101-101)."""
        return self.call(
            INQUIRE,
            [
                *self._head(),
                ("sps_transaction_id", sps_transaction_id),
                ("tracking_id", tracking_id),
                ("response_info_type", "2"),
                ("pay_option_manage", [("cardbrand_return_flg", "1")]),
                ("encrypted_flg", "0"),
                ("request_date", sbps_datetime(now)),
                ("limit_second", ""),
            ],
        )


def response_summary(response: ApiResponse) -> dict[str, Any]:
    """For logs: result, ids and error code only (no card fields)."""
    return {
        "request_id": response.request_id,
        "res_result": response.get("res_result"),
        "res_tracking_id": response.get("res_tracking_id"),
        "res_tds_authentication_id": response.get("res_tds_authentication_id"),
        "res_err_code": response.error_code,
    }
