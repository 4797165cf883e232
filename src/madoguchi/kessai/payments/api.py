"""Merchant API v1 (contract v1). Thin: authenticate, validate, call services."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.params.functions import Header
from ninja.security import HttpBearer

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.merchants.services import api_key_authenticate, api_key_within_rate

from . import services
from .errors import KessaiServiceError
from .selectors import payment_get, payment_list, payment_to_contract


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Merchant | None:
        merchant = api_key_authenticate(token)
        # Per API key; counted only for valid keys (guessing one is hopeless).
        if merchant is not None and not api_key_within_rate(token):
            raise HttpError(429, "Too many requests for this API key; retry in a minute.")
        return merchant


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
    return error_response(exc.status_code, "http_error", str(exc))


def _require_key(key: str | None) -> str:
    if not key or len(key) > 255:
        raise HttpError(400, "An Idempotency-Key header (at most 255 characters) is required.")
    return key


def _json(status: int, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(body, status=status)


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
    key = _require_key(idempotency_key)

    def operation() -> tuple[int, dict[str, Any]]:
        payment = services.payment_create(merchant=merchant, request=payload)
        raw_token, _ = services.checkout_token_create(payment=payment)
        body = payment_to_contract(payment, next_url=services.checkout_url(raw_token))
        return 201, body.model_dump(mode="json")

    status, body = services.idempotent(
        merchant=merchant,
        key=key,
        fingerprint=services.request_fingerprint("createPayment", request.body),
        operation=operation,
    )
    return _json(status, body)


@api.get(
    "/v1/payments",
    response={200: schemas.PaymentList, **ERRORS},
    summary="List payments, newest first",
    operation_id="listPayments",
)
def list_payments(
    request: HttpRequest, reference: str | None = None, updated_since: datetime | None = None
) -> schemas.PaymentList:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    payments = payment_list(merchant=merchant, reference=reference, updated_since=updated_since)
    return schemas.PaymentList(results=[payment_to_contract(p) for p in payments[:200]])


@api.get(
    "/v1/payments/{payment_id}",
    response={200: schemas.Payment, **ERRORS},
    summary="Get a payment",
    operation_id="getPayment",
)
def get_payment(request: HttpRequest, payment_id: str) -> schemas.Payment:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    return payment_to_contract(payment_get(merchant=merchant, public_id=payment_id))


@api.post(
    "/v1/payments/{payment_id}/checkout",
    response={201: schemas.CheckoutLink, **ERRORS},
    summary="Issue a fresh single-use link to the hosted payment page",
    operation_id="createCheckout",
)
def create_checkout(
    request: HttpRequest,
    payment_id: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    merchant: Merchant = request.auth  # type: ignore[attr-defined]
    key = _require_key(idempotency_key)

    def operation() -> tuple[int, dict[str, Any]]:
        payment = payment_get(merchant=merchant, public_id=payment_id)
        raw_token, token = services.checkout_token_create(payment=payment)
        link = schemas.CheckoutLink(
            url=services.checkout_url(raw_token), expires_at=token.expires_at
        )
        return 201, link.model_dump(mode="json")

    status, body = services.idempotent(
        merchant=merchant,
        key=key,
        fingerprint=services.request_fingerprint(f"createCheckout:{payment_id}", request.body),
        operation=operation,
    )
    return _json(status, body)
