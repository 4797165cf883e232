"""Gateways by code, and the gateway of an agency (configuration, not code)."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from .base import PaymentGateway

if TYPE_CHECKING:
    from madoguchi.shinsei.applications.models import Application
    from madoguchi.shinsei.procedures.models import Agency


class GatewayRegistry:
    def __init__(self) -> None:
        self._gateways: dict[str, type[PaymentGateway]] = {}

    def register(self, gateway: type[PaymentGateway]) -> None:
        self._gateways[gateway.code] = gateway

    def get(self, code: str) -> type[PaymentGateway]:
        try:
            return self._gateways[code]
        except KeyError:
            raise LookupError(f"no payment gateway {code!r}") from None

    def codes(self) -> list[str]:
        return list(self._gateways)


def build_registry() -> GatewayRegistry:
    registry = GatewayRegistry()
    for path in settings.SHINSEI_PAYMENT_GATEWAYS:
        registry.register(import_string(path))
    return registry


_registry: GatewayRegistry | None = None


def get_registry() -> GatewayRegistry:
    global _registry
    if _registry is None:
        _registry = build_registry()
    return _registry


def agency_setting(agency: "Agency", name: str) -> Any:
    """The environment's value for this agency wins over the stored one."""
    configured = settings.SHINSEI_AGENCY_CREDENTIALS.get(agency.code, {})
    return configured.get(name) or getattr(agency, name)


def gateway_for_agency(agency: "Agency") -> PaymentGateway:
    return get_registry().get(str(agency_setting(agency, "payment_gateway")))(agency)


def gateway_for(application: "Application") -> PaymentGateway:
    """The gateway the application's payment was requested through (or, before
    the request, the agency's current one)."""
    agency = application.procedure.department.agency
    if application.payment_gateway:
        return get_registry().get(application.payment_gateway)(agency)
    return gateway_for_agency(agency)
