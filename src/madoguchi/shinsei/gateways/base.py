from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from django.http import HttpRequest, HttpResponse

from madoguchi.contract.schemas import PaymentStatus

if TYPE_CHECKING:
    from madoguchi.shinsei.applications.models import Application
    from madoguchi.shinsei.procedures.models import Agency


@dataclass(frozen=True)
class GatewayPayment:
    """A gateway's view of one application's payment, in Shinsei's terms.

    ``status`` uses contract v1's vocabulary (created, started, succeeded,
    cancelled, expired, refunded); ``method`` is Shinsei's method code
    (``card``, ``paypay``, ``apple_pay``)."""

    id: str
    reference: str
    status: PaymentStatus
    method: str = ""
    paid_at: datetime | None = None


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered nothing usable: try later."""


class PaymentGateway(ABC):
    code: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, agency: "Agency") -> None:
        self.agency = agency

    @abstractmethod
    def payment_create(self, *, application: "Application") -> GatewayPayment:
        """Make the payment exist at the gateway (idempotent)."""

    @abstractmethod
    def payment_fetch(self, *, application: "Application") -> GatewayPayment | None:
        """Ask the gateway about the payment now; None if it has nothing to say."""

    @abstractmethod
    def checkout_start(self, *, application: "Application", request: HttpRequest) -> HttpResponse:
        """The answer to 支払う: send the citizen's browser to the gateway."""

    def form_action_origins(self) -> list[str]:
        """Origins the citizen's browser posts to on the way to the gateway."""
        return []
