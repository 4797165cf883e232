from django.conf import settings
from django.utils.module_loading import import_string

from madoguchi.contract.schemas import PaymentMethod

from .base import PaymentProvider


class ProviderRegistry:
    def __init__(self) -> None:
        self._providers: dict[PaymentMethod, PaymentProvider] = {}

    def register(self, provider: PaymentProvider) -> None:
        self._providers[provider.method] = provider

    def get(self, method: PaymentMethod | str) -> PaymentProvider:
        return self._providers[PaymentMethod(method)]

    def enabled(self) -> list[PaymentProvider]:
        return list(self._providers.values())


def build_registry() -> ProviderRegistry:
    registry = ProviderRegistry()
    for path in settings.KESSAI_PROVIDERS:
        registry.register(import_string(path)())
    return registry


_registry: ProviderRegistry | None = None


def get_registry() -> ProviderRegistry:
    global _registry
    if _registry is None:
        _registry = build_registry()
    return _registry
