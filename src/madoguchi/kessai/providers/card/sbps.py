"""Card connector for SBPS's API type (API型): 与信 then 売上確定, cancel,
full and partial refund, inquiry (``madoguchi.sbps.api``).

The attempt key names the attempt; SBPS's ``order_id`` is that key without
its ``att_`` prefix (38 characters at most, as SBPS allows). SBPS's
tracking id is written on the attempt as soon as the authorisation answers,
before the sale is confirmed, so the janitor can always ask SBPS about a
sale whose answer was lost. An authorisation whose answer was lost has no
tracking id: no sale was confirmed for it, so nothing was charged (the hold
lapses at the card company), and the attempt is settled as not received.

3-D Secure: the documents at hand (wozaki/sbpayment.rb and SBPS's public
pages) describe no 3-D Secure fields for the API type's 与信要求, so this
connector sends none; see docs/sbps.md for exactly what is missing.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from madoguchi.platform.http import transport
from madoguchi.sbps import api

from ..base import ProviderResult, ProviderUnavailable, RefundResult
from .cards import CardDetails

logger = logging.getLogger(__name__)

ITEM_ID = "madoguchi-fee"
BRANDS = {"V": "visa", "M": "mastercard", "J": "jcb", "A": "amex", "D": "diners"}

# SBPS error type (res_err_code characters 4-5) for credit (101) -> Kessai's
# decline codes (the messages citizens read, kessai/payments/views.py).
DECLINE_CODES = {
    "20": "card_declined",  # 不正カードフィルタ
    "21": "processing_error",  # クレジットセンターエラー
    "22": "insufficient_funds",  # 利用限度額超過
    "23": "card_declined",  # 使用不可
    "24": "card_declined",  # 暗証番号不正
    "25": "card_declined",  # 利用限度回数超過
    "26": "card_declined",  # 取扱不可
    "27": "expired_card",  # 番号・有効期限誤り
    "28": "card_declined",  # 取引内容取扱不可
    "36": "card_declined",  # その他与信エラー
    "61": "incorrect_cvc",  # セキュリティコード誤り
    "85": "processing_error",  # 決済機関接続エラー
    "86": "processing_error",  # 決済機関システムエラー
    "92": "processing_error",  # GW 接続エラー
}


def decline_code(error_code: str) -> str:
    parsed = api.ErrorCode.parse(error_code)
    if parsed is None:
        return "processing_error"
    return DECLINE_CODES.get(parsed.type, "card_declined")


def order_id_for(attempt_key: str) -> str:
    return attempt_key.removeprefix("att_")[:38]


@dataclass(frozen=True)
class SbpsCardConnector:
    client: api.SbpsApiClient

    @classmethod
    def for_credentials(
        cls, *, merchant_id: str, service_id: str, hash_key: str
    ) -> "SbpsCardConnector":
        return cls(
            client=api.SbpsApiClient(
                base_url=settings.KESSAI_SBPS_API_URL,
                credentials=api.ApiCredentials(
                    merchant_id=merchant_id, service_id=service_id, hash_key=hash_key
                ),
                transport=transport(),
            )
        )

    def _call(self, operation: str, **kwargs: object) -> api.ApiResponse:
        try:
            answer: api.ApiResponse = getattr(self.client, operation)(**kwargs)
        except api.SbpsApiError as exc:
            raise ProviderUnavailable(f"SBPS {operation}: {exc}") from None
        return answer

    @sensitive_variables("card")
    def authorize(
        self, *, attempt_key: str, amount: int, card: CardDetails, return_url: str = ""
    ) -> ProviderResult:
        """与信 (ST01-00111-101) then 売上 (ST02-00101-101)."""
        from .connectors import tracking_id_record

        answer = self._call(
            "authorize",
            cust_code=order_id_for(attempt_key),
            order_id=order_id_for(attempt_key),
            item_id=ITEM_ID,
            amount=amount,
            cc_number=card.number,
            cc_expiration=f"{card.exp_year:04d}{card.exp_month:02d}",
            security_code=card.security_code,
            now=timezone.now(),
        )
        if not answer.ok:
            logger.info("SBPS authorisation declined: %s", api.response_summary(answer))
            return ProviderResult(succeeded=False, decline_code=decline_code(answer.error_code))
        tracking_id = answer.get("res_tracking_id")
        brand = BRANDS.get(answer.get("res_pay_method_info.cardbrand_code"), card.brand)
        # Written before the sale is confirmed: a lost answer below can be asked about.
        tracking_id_record(attempt_key=attempt_key, tracking_id=tracking_id)
        sale = self._call(
            "commit", tracking_id=tracking_id, sps_transaction_id="", now=timezone.now()
        )
        if not sale.ok:
            logger.warning("SBPS sale refused: %s", api.response_summary(sale))
            self._cancel_quietly(tracking_id)
            return ProviderResult(succeeded=False, decline_code="processing_error")
        return ProviderResult(
            succeeded=True,
            provider_reference=tracking_id,
            card_brand=brand,
            card_last4=card.last4,
        )

    def _cancel_quietly(self, tracking_id: str) -> None:
        try:
            self._call("cancel", tracking_id=tracking_id, sps_transaction_id="", now=timezone.now())
        except ProviderUnavailable:
            logger.warning("SBPS cancel of an unconfirmed authorisation failed; it lapses")

    def _inquire(self, tracking_id: str) -> api.ApiResponse:
        answer = self._call(
            "inquire", tracking_id=tracking_id, sps_transaction_id="", now=timezone.now()
        )
        if not answer.ok:
            raise ProviderUnavailable(f"SBPS inquiry refused: {answer.error_code}")
        return answer

    def inquire(self, *, attempt_key: str, tracking_id: str) -> ProviderResult | None:
        """決済結果参照: sold (commit_status 1) is a success; authorised but not
        sold is cancelled here and reported as not succeeded."""
        if not tracking_id:
            return None  # no authorisation answered, so no sale was confirmed
        answer = self._inquire(tracking_id)
        commit_status = answer.get("res_pay_method_info.commit_status")
        payment_status = answer.get("res_pay_method_info.payment_status")
        if commit_status == "1" and payment_status in ("1", "3"):
            return ProviderResult(
                succeeded=True,
                provider_reference=tracking_id,
                card_brand=BRANDS.get(answer.get("res_pay_method_info.cardbrand_code"), ""),
            )
        if commit_status == "0" and payment_status == "1":
            self._cancel_quietly(tracking_id)
        return ProviderResult(
            succeeded=False, provider_reference=tracking_id, decline_code="processing_error"
        )

    def refund(self, *, tracking_id: str, amount: int, whole: bool) -> RefundResult:
        """返金 (ST02-00303-101) for the whole sale, else 部分返金 (ST02-00307-101)."""
        now = timezone.now()
        if whole:
            answer = self._call("refund", tracking_id=tracking_id, sps_transaction_id="", now=now)
        else:
            answer = self._call(
                "partial_refund",
                tracking_id=tracking_id,
                sps_transaction_id="",
                amount=amount,
                now=now,
            )
        if not answer.ok:
            logger.warning("SBPS refund refused: %s", api.response_summary(answer))
            return RefundResult(succeeded=False, failure_code=f"sbps_{answer.error_code}")
        return RefundResult(succeeded=True, provider_reference=answer.get("res_sps_transaction_id"))

    def inquire_refund(self, *, tracking_id: str, whole: bool) -> RefundResult | None:
        """A whole refund shows in the inquiry (payment_status 3). SBPS's
        documented inquiry does not show partial refunds: such a refund whose
        answer was lost stays pending (never sent twice) for a check in
        SBPS's management tool."""
        answer = self._inquire(tracking_id)
        if answer.get("res_pay_method_info.payment_status") == "3":
            return RefundResult(succeeded=True)
        if whole:
            return None  # not refunded: send it
        raise ProviderUnavailable("SBPS has no inquiry for a partial refund")

    def void(self, *, tracking_id: str) -> None:
        """A sale that must not stand: refund it in full (cancel if unsold)."""
        if not tracking_id:
            return
        answer = self._inquire(tracking_id)
        if answer.get("res_pay_method_info.commit_status") == "1":
            if answer.get("res_pay_method_info.payment_status") != "3":
                self.refund(tracking_id=tracking_id, amount=0, whole=True)
        else:
            self._cancel_quietly(tracking_id)
