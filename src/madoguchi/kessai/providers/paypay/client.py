"""A client of PayPay's Open Payment API (dynamic QR code flow), written for
this project: only the calls Kessai needs, each signed with ``OPA-Auth``.

Responses are ``{"resultInfo": {"code", "message", "codeId"}, "data": …}``.
Transport failures and 5xx raise ``ProviderUnavailable`` (outcome unknown);
the caller settles those by asking again (``get_payment_details``).
"""

import json
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from madoguchi.platform.http import make_client

from ..base import ProviderUnavailable, provider_error
from .auth import opa_auth_header

CONTENT_TYPE = "application/json;charset=UTF-8;"


@dataclass(frozen=True)
class PayPayResponse:
    status_code: int
    code: str
    message: str
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300 and self.code in ("SUCCESS", "REQUEST_ACCEPTED")


class PayPayClient:
    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        merchant_id: str | None = None,
    ) -> None:
        self.base_url = base_url or settings.KESSAI_PAYPAY_URL
        self.api_key = api_key or settings.KESSAI_PAYPAY_API_KEY
        self.api_secret = api_secret or settings.KESSAI_PAYPAY_API_SECRET
        self.merchant_id = merchant_id or settings.KESSAI_PAYPAY_MERCHANT_ID

    def _call(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> PayPayResponse:
        body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else None
        headers = {
            "Authorization": opa_auth_header(
                api_key=self.api_key,
                api_secret=self.api_secret,
                path=path,
                method=method,
                body=body,
                content_type=CONTENT_TYPE,
            ),
            "X-ASSUME-MERCHANT": self.merchant_id,
        }
        if body is not None:
            headers["Content-Type"] = CONTENT_TYPE
        try:
            with make_client(self.base_url) as client:
                response = client.request(method, path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise provider_error(exc) from None
        if response.status_code >= 500:
            raise ProviderUnavailable(f"paypay status {response.status_code}")
        try:
            parsed = response.json()
        except ValueError:
            raise ProviderUnavailable("paypay answered with something other than JSON") from None
        info = parsed.get("resultInfo") or {}
        return PayPayResponse(
            status_code=response.status_code,
            code=str(info.get("code", "")),
            message=str(info.get("message", "")),
            data=parsed.get("data") or {},
        )

    def create_code(
        self, *, merchant_payment_id: str, amount: int, redirect_url: str, requested_at: int
    ) -> PayPayResponse:
        """``POST /v2/codes``: a dynamic QR code (and its URL and deep link).
        No order description is sent: no procedure name may reach PayPay."""
        return self._call(
            "POST",
            "/v2/codes",
            {
                "merchantPaymentId": merchant_payment_id,
                "amount": {"amount": amount, "currency": "JPY"},
                "codeType": "ORDER_QR",
                "requestedAt": requested_at,
                "isAuthorization": False,
                "redirectUrl": redirect_url,
                "redirectType": "WEB_LINK",
            },
        )

    def get_payment_details(self, *, merchant_payment_id: str) -> PayPayResponse:
        """``GET /v2/codes/payments/{merchantPaymentId}``."""
        return self._call("GET", f"/v2/codes/payments/{merchant_payment_id}")

    def cancel_payment(self, *, merchant_payment_id: str) -> PayPayResponse:
        """``DELETE /v2/payments/{merchantPaymentId}``: makes sure a payment
        whose outcome we no longer wait for can never complete (or reverses it)."""
        return self._call("DELETE", f"/v2/payments/{merchant_payment_id}")

    def refund(
        self, *, merchant_refund_id: str, payment_id: str, amount: int, requested_at: int
    ) -> PayPayResponse:
        """``POST /v2/refunds``."""
        return self._call(
            "POST",
            "/v2/refunds",
            {
                "merchantRefundId": merchant_refund_id,
                "paymentId": payment_id,
                "amount": {"amount": amount, "currency": "JPY"},
                "requestedAt": requested_at,
            },
        )

    def get_refund(self, *, merchant_refund_id: str) -> PayPayResponse:
        """``GET /v2/refunds/{merchantRefundId}``."""
        return self._call("GET", f"/v2/refunds/{merchant_refund_id}")
