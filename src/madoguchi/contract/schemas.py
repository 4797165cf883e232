"""Wire schemas of contract v1.

Request models forbid unknown fields: this is how "no name, address or
procedure name ever reaches Kessai" is enforced rather than promised.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

# 整理番号: what Shinsei shows the citizen. Only letters, digits and hyphens,
# so nothing resembling a name can be smuggled in as a "reference".
Reference = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$", strip_whitespace=False)
]


def _to_utc(value: datetime) -> datetime:
    """Times must carry an offset; they are kept in UTC (a database cannot
    store every offset ISO 8601 allows, e.g. +18:26)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time zone offset is required")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is out of range") from exc


def _text_time(value: object) -> object:
    """A time on the wire is ISO 8601 text: a bare number (which pydantic would
    read as a Unix timestamp) is refused rather than guessed at."""
    if isinstance(value, (str, datetime)):
        return value
    raise ValueError("a time must be an ISO 8601 string with a time zone offset")


# An ISO 8601 time with offset, normalised to UTC.
UtcDateTime = Annotated[datetime, BeforeValidator(_text_time), AfterValidator(_to_utc)]

# Integer yen, strictly: 300.0, "300", 1e3 and true are refused, not coerced
# (true would be a 1-yen payment). The upper bound keeps a typo from becoming
# a 10-million-yen charge.
Yen = Annotated[int, Field(strict=True)]
Amount = Annotated[Yen, Field(ge=1, le=9_999_999)]


class PaymentStatus(StrEnum):
    CREATED = "created"  # requested by the merchant, nobody has tried to pay yet
    STARTED = "started"  # the citizen opened the payment page or tried a method
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"  # succeeded, then refunded in full

    @property
    def is_final(self) -> bool:
        return self in FINAL_PAYMENT_STATUSES


FINAL_PAYMENT_STATUSES = frozenset(
    {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.CANCELLED,
        PaymentStatus.EXPIRED,
        PaymentStatus.REFUNDED,
    }
)


class PaymentMethod(StrEnum):
    CARD = "card"
    PAYPAY = "paypay"
    APPLE_PAY = "apple_pay"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentCreateRequest(StrictModel):
    reference: Reference
    amount: Amount
    return_url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=500)]
    due_at: UtcDateTime | None = None
    language: Literal["ja", "en"] = "ja"


class CheckoutCreateRequest(StrictModel):
    """Optional body of ``createCheckout``; an empty body is the same as ``{}``."""

    language: Literal["ja", "en"] | None = Field(
        default=None,
        description=(
            "The citizen's language now: the payment page opens in it (the payment's "
            "own `language` otherwise)."
        ),
    )


class CheckoutLink(BaseModel):
    url: str
    expires_at: datetime


class Payment(BaseModel):
    id: str
    reference: str
    amount: int
    status: PaymentStatus
    method: PaymentMethod | None = None
    paid_at: datetime | None = None
    due_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    refunded_amount: int = Field(default=0, description="Yen refunded so far (succeeded refunds).")
    refundable_amount: int = Field(
        default=0,
        description="Yen that can still be refunded: the amount less refunds succeeded or pending.",
    )
    next_url: str | None = Field(
        default=None,
        description="Single-use link to the hosted payment page; only on create and checkout.",
    )


class PaymentList(BaseModel):
    results: list[Payment]


class PaymentCancelRequest(StrictModel):
    """Cancel a payment nobody has paid yet. No fields: the body may be empty."""


class RefundCreateRequest(StrictModel):
    amount: Amount
    # GOV.UK Pay's precondition: the merchant states what it believes can still
    # be refunded; if another refund got there first, the request is refused
    # with 409 instead of refunding twice.
    expected_refundable_amount: Annotated[Yen, Field(ge=0, le=9_999_999)]


class RefundStatus(StrEnum):
    PENDING = "pending"  # sent to the provider, answer not yet known
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused: nothing was refunded


class Refund(BaseModel):
    id: str
    payment_id: str
    amount: int
    status: RefundStatus
    created_at: datetime
    succeeded_at: datetime | None = None


class PaymentEventItem(BaseModel):
    type: str
    created_at: datetime
    data: dict[str, str | int | None] = Field(default_factory=dict)


class PaymentEventList(BaseModel):
    results: list[PaymentEventItem]


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_ATTEMPT_FAILED = "payment.attempt_failed"
    PAYMENT_EXPIRED = "payment.expired"
    PAYMENT_CANCELLED = "payment.cancelled"
    PAYMENT_REFUNDED = "payment.refunded"


class EventData(BaseModel):
    payment: Payment
    refund: Refund | None = None


class Event(BaseModel):
    """A notification Kessai sends to the merchant's notification URL."""

    id: str
    type: EventType
    created: datetime
    data: EventData


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, list[str]] = Field(default_factory=dict)
