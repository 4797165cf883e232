"""Wire schemas of contract v1.

Request models forbid unknown fields: this is how "no name, address or
procedure name ever reaches Kessai" is enforced rather than promised.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# 整理番号: what Shinsei shows the citizen. Only letters, digits and hyphens,
# so nothing resembling a name can be smuggled in as a "reference".
Reference = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$", strip_whitespace=False)
]
# Integer yen. The upper bound keeps a typo from becoming a 10-million-yen charge.
Amount = Annotated[int, Field(ge=1, le=9_999_999)]


class PaymentStatus(StrEnum):
    CREATED = "created"  # requested by the merchant, nobody has tried to pay yet
    STARTED = "started"  # the citizen opened the payment page or tried a method
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in FINAL_PAYMENT_STATUSES


FINAL_PAYMENT_STATUSES = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.CANCELLED, PaymentStatus.EXPIRED}
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
    due_at: datetime | None = None
    language: Literal["ja", "en"] = "ja"


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
    next_url: str | None = Field(
        default=None,
        description="Single-use link to the hosted payment page; only on create and checkout.",
    )


class PaymentList(BaseModel):
    results: list[Payment]


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_ATTEMPT_FAILED = "payment.attempt_failed"
    PAYMENT_EXPIRED = "payment.expired"
    PAYMENT_CANCELLED = "payment.cancelled"


class EventData(BaseModel):
    payment: Payment


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
