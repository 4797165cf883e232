"""Client of the card acquirer's authorization API.

The acquirer (a card network gateway) cannot be reached from here; in
development and tests ``madoguchi.simulators.acquirer`` answers on the same
protocol: JSON over HTTPS, bearer key, idempotency by our attempt key.
"""

from typing import Any

import httpx
from django.conf import settings

from madoguchi.platform.http import make_client

from ..base import ProviderResult, ProviderUnavailable, RefundResult
from .cards import CardDetails


class AcquirerClient:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        self.base_url = base_url or settings.KESSAI_ACQUIRER_URL
        self.api_key = api_key or settings.KESSAI_ACQUIRER_KEY

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> httpx.Response:
        try:
            with make_client(
                self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}
            ) as client:
                return client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            # The exception text names the URL only, never the body with the card.
            raise ProviderUnavailable(type(exc).__name__) from None

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
        if response.status_code >= 500:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        if response.status_code != 200:
            return ProviderResult(succeeded=False, decline_code="invalid_request")
        return self._result(response.json())

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
        if response.status_code >= 500:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        if response.status_code != 200:
            return ProviderResult(succeeded=False, decline_code="invalid_request")
        return self._result(response.json())

    def inquire(self, *, attempt_key: str) -> ProviderResult | None:
        response = self._call("GET", f"/v1/authorizations/{attempt_key}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        return self._result(response.json())

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
        if response.status_code >= 500:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        if response.status_code != 200:
            return RefundResult(succeeded=False, failure_code="invalid_request")
        return self._refund_result(response.json())

    def inquire_refund(self, *, refund_key: str) -> RefundResult | None:
        response = self._call("GET", f"/v1/refunds/{refund_key}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
        return self._refund_result(response.json())

    def void(self, *, attempt_key: str) -> None:
        response = self._call("POST", f"/v1/authorizations/{attempt_key}/void")
        if response.status_code >= 500:
            raise ProviderUnavailable(f"acquirer status {response.status_code}")
