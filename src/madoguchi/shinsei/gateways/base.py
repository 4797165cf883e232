from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from django.http import HttpRequest, HttpResponse

from madoguchi.contract.schemas import PaymentStatus

if TYPE_CHECKING:
    from madoguchi.shinsei.applications.models import Application, RefundRequest
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
    # Yen returned so far (還付); the gateway's own figure.
    refunded_amount: int = 0
    # The amount the gateway holds for it, when it reports one: Shinsei
    # applies nothing whose amount is not the fee it requested.
    amount: int | None = None


@dataclass(frozen=True)
class GatewayRefund:
    """A gateway's answer about one refund request.

    ``status`` uses contract v1's refund vocabulary (succeeded, pending,
    failed); ``pending`` also means "sent, outcome not known yet"."""

    status: str
    id: str = ""
    code: str = ""
    at: datetime | None = None
    # The payment's refunded total, when the gateway keeps one; None: Shinsei
    # adds up the refunds it has seen succeed.
    refunded_amount: int | None = None


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered nothing usable: try later.
    For a refund or a cancellation: nothing was done at the gateway."""


class PaymentGateway(ABC):
    code: ClassVar[str]
    label: ClassVar[str]
    # Whether sending the same refund twice is harmless (the gateway takes an
    # idempotency key). If not, Shinsei hands each refund over at most once.
    refund_replay_safe: ClassVar[bool] = True

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

    def payment_outcome_pending(self, *, application: "Application") -> bool:
        """Whether the gateway already gave word that the citizen may have
        paid (a verified result not yet confirmed): Shinsei then shows
        確認中 and offers no second payment until the outcome is known."""
        return False

    def form_action_origins(self) -> list[str]:
        """Origins the citizen's browser posts to on the way to the gateway."""
        return []

    @abstractmethod
    def payment_cancel(self, *, application: "Application") -> GatewayPayment | None:
        """End an unpaid payment so that it can no longer be paid (idempotent).
        Returns the gateway's view afterwards (paid, if it was paid meanwhile),
        or None when no payment was ever created there."""

    def refund_refusal(self, *, application: "Application") -> str:
        """Why this paid application cannot be refunded through the gateway,
        in Japanese for staff; empty when it can."""
        return ""

    @abstractmethod
    def refund_send(self, *, application: "Application", refund: "RefundRequest") -> GatewayRefund:
        """Send an approved refund. Raises ``GatewayUnavailable`` (or the
        transport's error, for a replay-safe gateway) to be retried."""

    @abstractmethod
    def refund_fetch(
        self, *, application: "Application", refund: "RefundRequest"
    ) -> GatewayRefund | None:
        """Ask about a refund whose outcome is pending; None if nothing is known."""
