"""Card connector for SBPS's API type (API型): 与信 then 売上確定, cancel,
full and partial refund, inquiry (``madoguchi.sbps.api``).

The attempt key names the attempt; SBPS's ``order_id`` is that key without
its ``att_`` prefix (38 characters at most, as SBPS allows). SBPS's
tracking id is written on the attempt as soon as the authorisation answers,
before the sale is confirmed, so the janitor can always ask SBPS about a
sale whose answer was lost. An authorisation whose answer was lost has no
tracking id: no sale was confirmed for it, so nothing was charged (the hold
lapses at the card company), and the attempt is settled as not received.

EMV 3-D Secure 2, as public SBPS clients do it (docs/sbps.md): 3DS認証要求
(TA02-00101-101) gives an authentication id and the page the citizen's
browser goes to; the attempt waits there (``requires_action``, its
provider reference ``tds_<authentication id>``). When the browser is back,
決済要求（3DS認証情報付加・認証結果ID指定） (ST01-00118-101) authorises
what the issuer authenticated and 売上 confirms it. Money moves only with
those two requests, which Kessai alone sends: an authentication the citizen
gave up is marked ``tdsend_…`` here and never authorised.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

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


# The attempt's provider reference while its 3-D Secure authentication is
# open, and once the citizen gave it up (it is then never authorised).
TDS_OPEN = "tds_"
TDS_ENDED = "tdsend_"
# SBPS's answer to ST01-00118-101 for an authentication that did not succeed,
# by error type (the simulator's codes: the public sources give none).
TDS_PENDING_TYPE = "T0"
TDS_DECLINES = {
    "T1": "authentication_failed",
    "T2": "authentication_timeout",
    "T3": "authentication_abandoned",
}
DUPLICATE_REQUEST = "10196999"  # 2 重リクエストエラー: the authentication was used
# After the challenge window, how long before an authorisation whose answer
# was lost is taken as never sold.
AUTHENTICATION_SETTLE_AFTER = timedelta(minutes=2)
# Recorded on a sale SBPS authorised with its authentication: SBPS's documented
# answers carry no ECI, and do not say whether a challenge was needed.
THREE_DS_VIA_SBPS = "sbps_3ds2"


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
        """With a ``return_url`` (the payment page): EMV 3-D Secure first, 3DS認証要求
        (TA02-00101-101); the browser goes to SBPS's page and comes back to
        ``return_url``, where ``inquire`` authorises. Without one: 与信
        (ST01-00111-101) then 売上 (ST02-00101-101)."""
        if not return_url:
            return self.authorize_without_authentication(
                attempt_key=attempt_key, amount=amount, card=card
            )
        answer = self._call(
            "tds_authenticate",
            cust_code=order_id_for(attempt_key),
            order_id=order_id_for(attempt_key),
            item_id=ITEM_ID,
            amount=amount,
            cc_number=card.number,
            cc_expiration=f"{card.exp_year:04d}{card.exp_month:02d}",
            security_code=card.security_code,
            # Either way Kessai asks SBPS: the browser's way back says nothing.
            ok_return_url=return_url,
            ng_return_url=return_url,
            now=timezone.now(),
        )
        if not answer.ok:
            logger.info("SBPS 3-D Secure request refused: %s", api.response_summary(answer))
            return ProviderResult(succeeded=False, decline_code=decline_code(answer.error_code))
        return ProviderResult(
            succeeded=False,
            requires_action=True,
            provider_reference=TDS_OPEN + answer.get("res_tds_authentication_id"),
            action_url=answer.get("redirect_url"),
            card_brand=card.brand,
            card_last4=card.last4,
        )

    def authorize_authenticated(
        self, *, attempt_key: str, reference: str, amount: int
    ) -> ProviderResult:
        """決済要求（3DS認証情報付加・認証結果ID指定） (ST01-00118-101) by the
        authentication id, then 売上. An authentication not finished keeps
        the attempt waiting; one that failed declines it."""
        from .connectors import provider_reference_replace

        answer = self._call(
            "authorize_authenticated",
            cust_code=order_id_for(attempt_key),
            order_id=order_id_for(attempt_key),
            item_id=ITEM_ID,
            amount=amount,
            tds_authentication_id=reference.removeprefix(TDS_OPEN),
            now=timezone.now(),
        )
        if not answer.ok:
            parsed = api.ErrorCode.parse(answer.error_code)
            kind = parsed.type if parsed is not None else ""
            if kind == TDS_PENDING_TYPE:
                return ProviderResult(
                    succeeded=False, requires_action=True, provider_reference=reference
                )
            if answer.error_code == DUPLICATE_REQUEST:
                return self._authentication_used(attempt_key=attempt_key, reference=reference)
            logger.info("SBPS authorisation declined: %s", api.response_summary(answer))
            code = TDS_DECLINES.get(kind) or decline_code(answer.error_code)
            return ProviderResult(succeeded=False, decline_code=code)
        tracking_id = answer.get("res_tracking_id")
        # Written before the sale is confirmed: a lost answer below can be asked about.
        provider_reference_replace(attempt_key=attempt_key, old=reference, new=tracking_id)
        result = self._commit(
            tracking_id=tracking_id,
            brand=BRANDS.get(answer.get("res_pay_method_info.cardbrand_code"), ""),
            last4="",
        )
        if result.succeeded:
            return ProviderResult(
                succeeded=True,
                provider_reference=tracking_id,
                card_brand=result.card_brand,
                three_ds=THREE_DS_VIA_SBPS,
            )
        return result

    def _authentication_used(self, *, attempt_key: str, reference: str) -> ProviderResult:
        """SBPS authorised this authentication before, for a call whose answer
        was lost or for one still running (which writes its tracking id and
        confirms the sale). Until the challenge window is long over, ask again
        later; after it, no sale was confirmed for it here, so nothing was
        charged (the hold lapses at the card company)."""
        from .connectors import attempt_of

        attempt = attempt_of(attempt_key)
        if attempt is None or attempt.provider_reference != reference:
            raise ProviderUnavailable("SBPS: authentication used; its tracking id is recorded")
        ends = attempt.action_expires_at
        if ends is None or timezone.now() < ends + AUTHENTICATION_SETTLE_AFTER:
            raise ProviderUnavailable("SBPS: authentication used by a call still running")
        return ProviderResult(succeeded=False, decline_code="not_received")

    def cancel_action(self, *, attempt_key: str, reference: str) -> None:
        """The citizen gives up the authentication: SBPS documents no request
        to end one, and needs none — an authentication nobody authorises
        charges nothing. Marking it here makes sure Kessai never does."""
        from .connectors import provider_reference_replace

        if reference.startswith(TDS_OPEN):
            provider_reference_replace(
                attempt_key=attempt_key,
                old=reference,
                new=TDS_ENDED + reference.removeprefix(TDS_OPEN),
            )

    @sensitive_variables("card")
    def authorize_without_authentication(
        self, *, attempt_key: str, amount: int, card: CardDetails
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
        return self._commit(tracking_id=tracking_id, brand=brand, last4=card.last4)

    def _commit(self, *, tracking_id: str, brand: str, last4: str) -> ProviderResult:
        """売上 (ST02-00101-101) of an authorisation; cancelled if SBPS refuses."""
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
            card_last4=last4,
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

    def inquire(
        self, *, attempt_key: str, tracking_id: str, amount: int = 0
    ) -> ProviderResult | None:
        """決済結果参照: sold (commit_status 1) is a success; authorised but not
        sold is cancelled here and reported as not succeeded. An attempt still
        at 3-D Secure (``tracking_id`` is its authentication) is authorised now
        if the issuer authenticated it."""
        if not tracking_id:
            return None  # no authorisation answered, so no sale was confirmed
        if tracking_id.startswith(TDS_ENDED):
            return ProviderResult(succeeded=False, decline_code="authentication_abandoned")
        if tracking_id.startswith(TDS_OPEN):
            return self.authorize_authenticated(
                attempt_key=attempt_key, reference=tracking_id, amount=amount
            )
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
        if not tracking_id or tracking_id.startswith((TDS_OPEN, TDS_ENDED)):
            return  # never authorised
        answer = self._inquire(tracking_id)
        if answer.get("res_pay_method_info.commit_status") == "1":
            if answer.get("res_pay_method_info.payment_status") != "3":
                self.refund(tracking_id=tracking_id, amount=0, whole=True)
        else:
            self._cancel_quietly(tracking_id)
