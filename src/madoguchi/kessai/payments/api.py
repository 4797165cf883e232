"""Merchant API v1 (contract v1). Thin: authenticate, validate, call services."""

import json
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.params.functions import Header, Query
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from madoguchi.contract import schemas
from madoguchi.contract.client import CLIENT_CLASS_HEADER
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.merchants.services import (
    api_address_within_failure_rate,
    api_key_authenticate_cached,
    api_key_within_rate,
)
from madoguchi.platform.network import client_address

from . import services
from .errors import KessaiServiceError
from .models import Refund
from .selectors import (
    payment_events,
    payment_get,
    payment_list,
    payment_to_contract,
    refund_get,
    refund_to_contract,
)


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Merchant | None:
        merchant = api_key_authenticate_cached(token)
        if merchant is None:
            # Per address for wrong keys (guessing one is hopeless, but each
            # guess costs a look-up).
            if not api_address_within_failure_rate(client_address(request)):
                raise HttpError(429, "Too many requests with invalid API keys; retry in a minute.")
            return None
        # Per API key and declared caller class (docs/api.md#rate-limits).
        if not api_key_within_rate(
            token, client_class=request.headers.get(CLIENT_CLASS_HEADER, "")
        ):
            raise HttpError(429, "Too many requests for this API key; retry in a minute.")
        return merchant


class UnacceptableBody(ValueError):
    """A JSON body refused before validation (a 422 like any invalid body)."""


class DuplicateKey(UnacceptableBody):
    def __init__(self, key: str) -> None:
        super().__init__(f"The key {key!r} appears more than once.")
        self.key = key


class NulCharacter(UnacceptableBody):
    def __init__(self) -> None:
        super().__init__("Text must not contain the NUL character (U+0000).")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(key)
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            # No database stores it as text (PostgreSQL refuses it outright).
            raise NulCharacter()
        seen[key] = value
    return seen


def strict_json_loads(raw: bytes) -> Any:
    """JSON as written: a key given twice or a NUL character in any text is
    refused (``UnacceptableBody``), not read "last one wins" or passed on."""
    data = json.loads(raw, object_pairs_hook=_refuse_duplicate_keys)
    if isinstance(data, str) and "\x00" in data:
        raise NulCharacter()
    return data


class StrictJsonParser(Parser):
    """JSON bodies through ``strict_json_loads``: two parsers could read a body
    with a key given twice as two different requests."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data: dict[str, Any] = strict_json_loads(request.body)
        return data


api = NinjaAPI(
    title="Kessai merchant API",
    version="1.0.0",
    description=(
        "Contract v1 between a merchant (an agency's e-application system) and Kessai. "
        "Requests carry only the reference number and the amount: unknown fields are "
        "rejected with 422. Every POST needs an Idempotency-Key."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="kessai_api",
    openapi_url="/openapi.json",
    docs_url=None,
    parser=StrictJsonParser(),
)

ERRORS: dict[int, Any] = {
    400: schemas.ErrorBody,
    401: schemas.ErrorBody,
    404: schemas.ErrorBody,
    409: schemas.ErrorBody,
    422: schemas.ErrorBody,
}


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    body = schemas.ErrorBody(code=code, message=message, fields=fields or {})
    return JsonResponse(body.model_dump(), status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", []) if part not in ("body", "payload")]
        fields.setdefault(".".join(location) or "body", []).append(str(error.get("msg")))
    return error_response(422, "validation_error", "The request is not valid.", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "unauthorized", "A valid API key is required.")


@api.exception_handler(KessaiServiceError)
def on_service_error(request: HttpRequest, exc: KessaiServiceError) -> HttpResponse:
    return error_response(exc.http_status, exc.code, exc.message)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, UnacceptableBody):
        # Ninja wraps every body parser error in a 400; a duplicate key or a
        # NUL is a validation error of the body like any other.
        return error_response(
            422, "validation_error", "The request is not valid.", {"body": [str(exc.__cause__)]}
        )
    response = error_response(exc.status_code, "http_error", str(exc))
    if exc.status_code == 429 and not response.has_header("Retry-After"):
        # The per-key window is a minute: say when to come back (clients such
        # as Shinsei pause that long instead of spending the budget on refusals).
        response["Retry-After"] = "60"
    return response


def _optional_body[M: BaseModel](request: HttpRequest, model: type[M]) -> M:
    """A body that may be absent (empty means ``{}``), validated like any other."""
    raw = request.body.strip() or b"{}"
    try:
        strict_json_loads(raw)
    except UnacceptableBody as exc:
        raise ValidationError([{"loc": ("body",), "msg": str(exc), "type": "value_error"}]) from exc
    except ValueError:
        pass  # not JSON at all: pydantic says so below, in its words
    try:
        return model.model_validate_json(raw)
    except PydanticValidationError as exc:
        raise ValidationError([dict(e) for e in exc.errors()]) from exc


def _require_key(key: str | None) -> str:
    if not key or len(key) > 255:
        raise HttpError(400, "An Idempotency-Key header (at most 255 characters) is required.")
    return key


def _idempotent(
    *,
    merchant: Merchant,
    idempotency_key: str | None,
    operation_name: str,
    body: bytes,
    operation: Callable[[services.IdempotencyClaim], tuple[int, dict[str, Any]]],
) -> JsonResponse:
    """Every POST: run ``operation`` once per Idempotency-Key, replay after."""
    status, answer = services.idempotent(
        merchant=merchant,
        key=_require_key(idempotency_key),
        fingerprint=services.request_fingerprint(operation_name, body),
        operation=operation,
    )
    return JsonResponse(answer, status=status)


def _answer(body: BaseModel, status: int = 200) -> JsonResponse:
    """A read's answer, serialized once as the writes' answers are (pydantic's
    JSON mode: timestamps to the microsecond). Returning the model would have
    django-ninja validate it again against the response schema and render
    timestamps to the millisecond, so a payment read back would not match
    the answer that created it."""
    return JsonResponse(body.model_dump(mode="json"), status=status)


@api.post(
    "/v1/payments",
    response={201: schemas.Payment, **ERRORS},
    summary="Create a payment for a reference number and amount",
    operation_id="createPayment",
)
def create_payment(
    request: HttpRequest,
    payload: schemas.PaymentCreateRequest,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]

    def operation(claim: services.IdempotencyClaim) -> tuple[int, dict[str, Any]]:
        # No link when created with a due date already past: nothing to pay.
        # The answer is stored under the key in the create's own statement.
        _, _, answer = services.payment_create_with_checkout(
            merchant=merchant, request=payload, claim=claim
        )
        return answer

    return _idempotent(
        merchant=merchant,
        idempotency_key=idempotency_key,
        operation_name="createPayment",
        body=request.body,
        operation=operation,
    )


@api.get(
    "/v1/payments",
    response={200: schemas.PaymentList, **ERRORS},
    summary="List payments, newest first",
    operation_id="listPayments",
)
def list_payments(
    request: HttpRequest,
    reference: str | None = None,
    updated_since: schemas.UtcDateTime | None = None,
    status: schemas.PaymentStatus | None = None,
    method: schemas.PaymentMethod | None = None,
    created_from: schemas.UtcDateTime | None = None,
    created_to: schemas.UtcDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    payments = payment_list(
        merchant=merchant,
        reference=reference,
        updated_since=updated_since,
        status=status,
        method=method,
        created_from=created_from,
        created_to=created_to,
    )
    return _answer(schemas.PaymentList(results=[payment_to_contract(p) for p in payments[:limit]]))


@api.get(
    "/v1/payments/{payment_id}",
    response={200: schemas.Payment, **ERRORS},
    summary="Get a payment",
    operation_id="getPayment",
)
def get_payment(request: HttpRequest, payment_id: str) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    return _answer(payment_to_contract(payment_get(merchant=merchant, public_id=payment_id)))


@api.post(
    "/v1/payments/{payment_id}/checkout",
    response={201: schemas.CheckoutLink, **ERRORS},
    summary="Issue a fresh single-use link to the hosted payment page",
    operation_id="createCheckout",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": schemas.CheckoutCreateRequest.model_json_schema()}
            },
        }
    },
)
def create_checkout(
    request: HttpRequest,
    payment_id: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    language = _optional_body(request, schemas.CheckoutCreateRequest).language

    def operation(claim: services.IdempotencyClaim) -> tuple[int, dict[str, Any]]:
        return services.checkout_token_create_for(
            merchant=merchant, public_id=payment_id, language=language, claim=claim
        )

    return _idempotent(
        merchant=merchant,
        idempotency_key=idempotency_key,
        operation_name=f"createCheckout:{payment_id}",
        body=request.body,
        operation=operation,
    )


@api.post(
    "/v1/payments/{payment_id}/cancel",
    response={200: schemas.Payment, **ERRORS},
    summary="Cancel a payment that nobody has paid yet",
    operation_id="cancelPayment",
)
def cancel_payment(
    request: HttpRequest,
    payment_id: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]

    def operation(_: services.IdempotencyClaim) -> tuple[int, dict[str, Any]]:
        payment = payment_get(merchant=merchant, public_id=payment_id)
        cancelled = services.payment_cancel(payment=payment)
        return 200, payment_to_contract(cancelled).model_dump(mode="json")

    return _idempotent(
        merchant=merchant,
        idempotency_key=idempotency_key,
        operation_name=f"cancelPayment:{payment_id}",
        body=b"",
        operation=operation,
    )


@api.post(
    "/v1/payments/{payment_id}/refunds",
    response={201: schemas.Refund, **ERRORS},
    summary="Refund a succeeded payment in full or in part",
    description=(
        "`expected_refundable_amount` must equal the payment's `refundable_amount` "
        "now (409 `refund_amount_mismatch` otherwise), so a retried or concurrent "
        "request never refunds twice. The refund is `succeeded`, `failed`, or "
        "`pending` when the provider's answer is not yet known."
    ),
    operation_id="createRefund",
)
def create_refund(
    request: HttpRequest,
    payment_id: str,
    payload: schemas.RefundCreateRequest,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]

    def operation(_: services.IdempotencyClaim) -> tuple[int, dict[str, Any]]:
        payment = payment_get(merchant=merchant, public_id=payment_id)
        refund = services.refund_create(
            payment=payment,
            amount=payload.amount,
            expected_refundable_amount=payload.expected_refundable_amount,
        )
        return 201, refund_to_contract(refund).model_dump(mode="json")

    response = _idempotent(
        merchant=merchant,
        idempotency_key=idempotency_key,
        operation_name=f"createRefund:{payment_id}",
        body=request.body,
        operation=operation,
    )
    if response.status_code == 201:
        # Sent after the reservation has committed, so no lock is held during
        # the provider call; a replay sends it again (the provider deduplicates)
        # and answers with the refund's state now.
        created_id = json.loads(response.content)["id"]
        refund = Refund.objects.select_related("payment", "attempt").get(public_id=created_id)
        refund = services.refund_submit(refund=refund)
        return _answer(refund_to_contract(refund), status=201)
    return response


@api.get(
    "/v1/payments/{payment_id}/refunds/{refund_id}",
    response={200: schemas.Refund, **ERRORS},
    summary="Get a refund",
    operation_id="getRefund",
)
def get_refund(request: HttpRequest, payment_id: str, refund_id: str) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    payment = payment_get(merchant=merchant, public_id=payment_id)
    return _answer(refund_to_contract(refund_get(payment=payment, public_id=refund_id)))


@api.get(
    "/v1/payments/{payment_id}/events",
    response={200: schemas.PaymentEventList, **ERRORS},
    summary="The payment's history, oldest first",
    operation_id="listPaymentEvents",
)
def list_payment_events(request: HttpRequest, payment_id: str) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    payment = payment_get(merchant=merchant, public_id=payment_id)
    return _answer(schemas.PaymentEventList(results=payment_events(payment=payment)))
