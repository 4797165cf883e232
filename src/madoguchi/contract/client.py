"""Kessai merchant API client, used by Shinsei (and by anyone integrating)."""

import ssl
from typing import Any

import httpx

from .schemas import (
    CheckoutCreateRequest,
    CheckoutLink,
    ErrorBody,
    Payment,
    PaymentCreateRequest,
    PaymentEventItem,
    PaymentEventList,
    PaymentList,
    Refund,
    RefundCreateRequest,
)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Kessai counts each class of a key's callers against its own per-minute budget
# (docs/api.md#rate-limits): a merchant's background jobs (creating payments,
# reconciling) are never starved by calls made on behalf of a citizen's click,
# nor by another program using the same key.
CLIENT_CLASS_HEADER = "Kessai-Client-Class"
CLIENT_CLASSES = ("background", "interactive")


class KessaiError(Exception):
    """Kessai answered, and the answer is an error (4xx/5xx)."""

    def __init__(self, status_code: int, error: ErrorBody) -> None:
        super().__init__(f"{status_code} {error.code}: {error.message}")
        self.status_code = status_code
        self.error = error

    @property
    def is_retryable(self) -> bool:
        return self.status_code >= 500 or self.status_code in (409, 429)


class KessaiClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        client_class: str = "background",
        verify: ssl.SSLContext | bool = True,
        event_hooks: dict[str, list[Any]] | None = None,
    ) -> None:
        if client_class not in CLIENT_CLASSES:
            raise ValueError(f"client_class must be one of {CLIENT_CLASSES}")
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", CLIENT_CLASS_HEADER: client_class},
            transport=transport,
            timeout=timeout,
            # Pass a shared context: httpx makes a new one per client otherwise.
            verify=verify,
            event_hooks=event_hooks,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "KessaiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = ErrorBody.model_validate(response.json())
            except ValueError:
                error = ErrorBody(code="http_error", message=response.text[:200])
            raise KessaiError(response.status_code, error)
        return response.json()

    def create_payment(self, request: PaymentCreateRequest, *, idempotency_key: str) -> Payment:
        data = self._request(
            "POST",
            "/v1/payments",
            content=request.model_dump_json(exclude_none=True),
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
        )
        return Payment.model_validate(data)

    def get_payment(self, payment_id: str) -> Payment:
        return Payment.model_validate(self._request("GET", f"/v1/payments/{payment_id}"))

    def list_payments(self, *, reference: str | None = None) -> list[Payment]:
        params = {"reference": reference} if reference else {}
        return PaymentList.model_validate(
            self._request("GET", "/v1/payments", params=params)
        ).results

    def create_checkout(
        self, payment_id: str, *, idempotency_key: str, language: str | None = None
    ) -> CheckoutLink:
        extra: dict[str, Any] = {}
        if language is not None:
            body = CheckoutCreateRequest.model_validate({"language": language})
            extra["json"] = body.model_dump(mode="json", exclude_none=True)
        data = self._request(
            "POST",
            f"/v1/payments/{payment_id}/checkout",
            headers={"Idempotency-Key": idempotency_key},
            **extra,
        )
        return CheckoutLink.model_validate(data)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> Payment:
        data = self._request(
            "POST",
            f"/v1/payments/{payment_id}/cancel",
            headers={"Idempotency-Key": idempotency_key},
        )
        return Payment.model_validate(data)

    def create_refund(
        self, payment_id: str, request: RefundCreateRequest, *, idempotency_key: str
    ) -> Refund:
        data = self._request(
            "POST",
            f"/v1/payments/{payment_id}/refunds",
            content=request.model_dump_json(),
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
        )
        return Refund.model_validate(data)

    def get_refund(self, payment_id: str, refund_id: str) -> Refund:
        return Refund.model_validate(
            self._request("GET", f"/v1/payments/{payment_id}/refunds/{refund_id}")
        )

    def list_payment_events(self, payment_id: str) -> list[PaymentEventItem]:
        return PaymentEventList.model_validate(
            self._request("GET", f"/v1/payments/{payment_id}/events")
        ).results
