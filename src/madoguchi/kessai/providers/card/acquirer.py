"""Client of the card acquirer's authorization API.

The acquirer (a card network gateway) cannot be reached from here; in
development and tests ``madoguchi.simulators.acquirer`` answers on the same
protocol: JSON over HTTPS, bearer key, idempotency by our attempt key.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from django.conf import settings

from madoguchi.platform.http import kept_client

from ..base import ProviderResult, ProviderUnavailable, RefundResult, provider_error
from .cards import CardDetails

R = TypeVar("R")


class AcquirerClient:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        self.base_url = base_url or settings.KESSAI_ACQUIRER_URL
        self.api_key = api_key or settings.KESSAI_ACQUIRER_KEY

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> httpx.Response:
        try:
            client = kept_client(self.base_url, headers={"Authorization": f"Bearer {self.api_key}"})
            return client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            # The exception text names the URL only, never the body with the card.
            raise provider_error(exc) from None

    @staticmethod
    def _decided(response: httpx.Response, parse: Callable[[Any], R], refused: R) -> R:
        """An answer to a request that decides something: a 5xx means the
        outcome is unknown (the janitor asks later); any other refusal means
        the acquirer did nothing."""
        if response.status_code >= 500:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        if response.status_code != 200:
            return refused
        return parse(response.json())

    @staticmethod
    def _looked_up(response: httpx.Response, parse: Callable[[Any], R]) -> R | None:
        """An answer to an inquiry: None when the acquirer never saw the key."""
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        return parse(response.json())

    @staticmethod
    def _result(data: dict[str, Any]) -> ProviderResult:
        return ProviderResult(
            succeeded=data["status"] == "captured",
            provider_reference=data.get("id", ""),
            decline_code=data.get("decline_code") or "",
            card_brand=data.get("brand", ""),
            card_last4=data.get("last4", ""),
            eci=data.get("eci") or "",
            three_ds=data.get("three_ds") or "",
            requires_action=data["status"] == "requires_action",
            action_url=data.get("action_url") or "",
        )

    def authorize(
        self, *, attempt_key: str, amount: int, card: CardDetails, return_url: str = ""
    ) -> ProviderResult:
        """Authorize and capture. With 3-D Secure the answer may be
        ``requires_action``: the citizen's browser goes to the issuer's
        challenge page, which sends it back to ``return_url``."""
        response = self._call(
            "POST",
            "/v1/authorizations",
            json={
                "idempotency_key": attempt_key,
                "amount": amount,
                "currency": "JPY",
                "capture": True,
                "return_url": return_url,
                "card": {
                    "number": card.number,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                    "cvc": card.security_code,
                },
            },
        )
        return self._decided(
            response, self._result, ProviderResult(succeeded=False, decline_code="invalid_request")
        )

    def authorize_network_token(
        self,
        *,
        attempt_key: str,
        amount: int,
        dpan: str,
        exp_month: int,
        exp_year: int,
        cryptogram: str,
        eci: str,
    ) -> ProviderResult:
        """Authorize a wallet payment (Apple Pay): the device account number
        with its one-time cryptogram and ECI, no security code."""
        response = self._call(
            "POST",
            "/v1/authorizations",
            json={
                "idempotency_key": attempt_key,
                "amount": amount,
                "currency": "JPY",
                "capture": True,
                "card": {"number": dpan, "exp_month": exp_month, "exp_year": exp_year},
                "network_token": {"cryptogram": cryptogram, "eci": eci},
            },
        )
        return self._decided(
            response, self._result, ProviderResult(succeeded=False, decline_code="invalid_request")
        )

    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        response = self._call("GET", f"/v1/authorizations/{attempt_key}")
        return self._looked_up(response, self._result)

    @staticmethod
    def _refund_result(data: dict[str, Any]) -> RefundResult:
        return RefundResult(
            succeeded=data["status"] == "succeeded",
            provider_reference=data.get("id", ""),
            failure_code=data.get("failure_code") or "",
        )

    def refund(self, *, attempt_key: str, refund_key: str, amount: int) -> RefundResult:
        response = self._call(
            "POST",
            f"/v1/authorizations/{attempt_key}/refunds",
            json={"idempotency_key": refund_key, "amount": amount},
        )
        return self._decided(
            response,
            self._refund_result,
            RefundResult(succeeded=False, failure_code="invalid_request"),
        )

    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        response = self._call("GET", f"/v1/refunds/{refund_key}")
        return self._looked_up(response, self._refund_result)

    def void(self, *, attempt_key: str) -> None:
        response = self._call("POST", f"/v1/authorizations/{attempt_key}/void")
        if response.status_code >= 500:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
