"""Merchant lifecycle: registration, key and secret rotation, and contract end
(seed 2(6)イ(エ)): credentials and data gone at once, payment history kept
for the retention period and then gone, with a correct report each time."""

import datetime
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from madoguchi.kessai.history.models import ContractEnd, DeletionReport, PaymentHistory
from madoguchi.kessai.history.tasks import history_sweep
from madoguchi.kessai.merchants import lifecycle
from madoguchi.kessai.merchants.models import ApiKey, Merchant
from madoguchi.kessai.merchants.services import api_key_authenticate
from madoguchi.kessai.payments.models import (
    Attempt,
    CheckoutToken,
    DailySummary,
    IdempotencyRecord,
    Notification,
    NotificationDelivery,
    Payment,
    PaymentEvent,
)
from madoguchi.platform.audit.models import AuditRecord
from tests.kessai.console.conftest import make_payment, succeed_at

JST = ZoneInfo("Asia/Tokyo")
PAID_AT = datetime.datetime(2026, 10, 5, 10, 0, tzinfo=JST)


def create_by_api(api_key: str, reference: str, amount: int) -> dict[str, Any]:
    response = Client(HTTP_HOST="kessai.test").post(
        "/api/v1/payments",
        json.dumps({"reference": reference, "amount": amount, "return_url": "http://s.test/r"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"k-{reference}"},
    )
    assert response.status_code == 201
    return dict(response.json())


def test_administrator_registers_a_merchant_and_sees_credentials_once(admin: Client) -> None:
    response = admin.post(
        "/merchants/new",
        {
            "code": "kyoiku",
            "display_name": "藤沢市教育委員会",
            "notification_url": "http://shinsei.test/kessai/notifications/kyoiku",
        },
    )
    assert response.status_code == 200
    raw_key = response.context["api_key"]
    merchant = Merchant.objects.get(code="kyoiku")
    assert api_key_authenticate(raw_key) == merchant
    assert response.context["notification_secret"] == merchant.notification_secret
    assert raw_key not in admin.get("/merchants/kyoiku").content.decode()  # shown once
    assert AuditRecord.objects.filter(event="merchant.register", resource="merchant:kyoiku")


def test_rotating_the_api_key_revokes_the_old_one(demo: dict[str, Any], admin: Client) -> None:
    old_key = demo["merchants"]["mayor"]["api_key"]
    response = admin.post("/merchants/mayor/api-key")
    new_key = response.context["api_key"]
    assert api_key_authenticate(new_key) == Merchant.objects.get(code="mayor")
    assert api_key_authenticate(old_key) is None
    assert ApiKey.objects.filter(merchant__code="mayor", revoked_at__isnull=True).count() == 1


def test_rotating_the_secret_signs_with_both_until_retired(
    demo: dict[str, Any], admin: Client
) -> None:
    old = demo["merchants"]["mayor"]["notification_secret"]
    new = admin.post("/merchants/mayor/secret").context["notification_secret"]
    merchant = Merchant.objects.get(code="mayor")
    assert merchant.signing_secrets() == [new, old]
    assert admin.post("/merchants/mayor/secret/retire").status_code == 302
    merchant.refresh_from_db()
    assert merchant.signing_secrets() == [new]


def test_wrong_confirmation_ends_nothing(merchants: list[Merchant], admin: Client) -> None:
    make_payment(merchants[0], 500)
    response = admin.post("/merchants/mayor/end", {"confirm_code": "mayo"})
    assert response.status_code == 400
    assert Merchant.objects.get(code="mayor").is_active
    assert Payment.objects.filter(merchant__code="mayor").count() == 1
    assert not DeletionReport.objects.exists()


def test_contract_end_deletes_at_once_keeps_history_then_deletes_it(
    demo: dict[str, Any], admin: Client, run_tasks: Any
) -> None:
    # Given: the mayor has a paid payment (with an attempt, events, a
    # notification and its delivery log), an unpaid one made through the API
    # (an idempotency record, a checkout link), and the other agency has its own
    mayor = Merchant.objects.get(code="mayor")
    other = Merchant.objects.get(code="agri-committee")
    mayor_key = demo["merchants"]["mayor"]["api_key"]
    paid = succeed_at(make_payment(mayor, 1500, "END-0001"), PAID_AT)
    created = create_by_api(mayor_key, "END-0002", 700)
    run_tasks()
    other_paid = succeed_at(make_payment(other, 900, "KEEP-0001"), PAID_AT)
    assert NotificationDelivery.objects.filter(notification__payment=paid).count() == 1
    assert CheckoutToken.objects.filter(payment__merchant=mayor).count() == 1
    events = PaymentEvent.objects.filter(payment__merchant=mayor).count()
    notifications = Notification.objects.filter(merchant=mayor).count()
    deliveries = NotificationDelivery.objects.filter(notification__merchant=mayor).count()
    attempts = Attempt.objects.filter(payment__merchant=mayor).count()

    # When: an administrator ends the mayor's contract
    with override_settings(KESSAI_HISTORY_RETENTION_DAYS=30):
        response = admin.post("/merchants/mayor/end", {"confirm_code": "mayor"})
    assert response.status_code == 302
    ended_at = timezone.now()

    # Then: credentials and every piece of data are gone at once …
    mayor.refresh_from_db()
    assert api_key_authenticate(mayor_key) is None
    assert not ApiKey.objects.filter(merchant=mayor).exists()
    assert (mayor.is_active, mayor.notification_secret, mayor.previous_notification_secret) == (
        False,
        "",
        "",
    )
    assert mayor.notification_url == ""
    assert not Payment.objects.filter(merchant=mayor).exists()
    assert not Attempt.objects.filter(payment__merchant=mayor).exists()
    assert not PaymentEvent.objects.filter(payment__merchant=mayor).exists()
    assert not Notification.objects.filter(merchant=mayor).exists()
    assert not NotificationDelivery.objects.filter(notification__merchant=mayor).exists()
    assert not CheckoutToken.objects.filter(payment__merchant=mayor).exists()
    assert not IdempotencyRecord.objects.filter(merchant=mayor).exists()
    # … except the payment history: reference, amount, method, dates, status
    history = {
        h.reference: (h.payment_id, h.amount, h.method, h.status, h.paid_at)
        for h in PaymentHistory.objects.all()
    }
    assert history == {
        "END-0001": (paid.public_id, 1500, "card", "succeeded", PAID_AT),
        "END-0002": (created["id"], 700, "", "created", None),
    }
    # The other agency is untouched
    assert Payment.objects.filter(pk=other_paid.pk, status="succeeded").exists()
    assert api_key_authenticate(demo["merchants"]["agri-committee"]["api_key"]) == other
    # The API refuses the ended merchant
    refused = Client(HTTP_HOST="kessai.test").get(
        "/api/v1/payments", headers={"Authorization": f"Bearer {mayor_key}"}
    )
    assert refused.status_code == 401

    # And the report says exactly what went and when
    report = DeletionReport.objects.get()
    assert report.kind == DeletionReport.Kind.CONTRACT_END
    assert (report.merchant_code, report.merchant_name) == ("mayor", "藤沢市（市長）")
    assert report.performed_by.startswith("console:")
    assert report.deleted == {
        "kessai_api_key": 1,
        "kessai_attempt": attempts,
        "kessai_checkout_token": 1,
        "kessai_idempotency": 1,
        "kessai_merchant.notification_secret": 1,
        "kessai_merchant.notification_url": 1,
        "kessai_notification": notifications,
        "kessai_notification_delivery": deliveries,
        "kessai_payment": 2,
        "kessai_payment_event": events,
    }
    assert report.kept["kessai_payment_history"] == 2
    contract = ContractEnd.objects.get()
    assert contract.retain_until == report.retain_until
    assert abs(contract.retain_until - (ended_at + datetime.timedelta(days=30))).total_seconds() < 5
    page = admin.get(f"/reports/{report.pk}").content.decode()
    assert "kessai_attempt" in page
    assert "契約終了による削除" in page
    download = admin.get(f"/reports/{report.pk}.csv").content.decode("utf-8-sig")
    assert "削除,kessai_payment,2" in download
    assert AuditRecord.objects.filter(event="merchant.contract_end").count() == 1

    # When: the retention period has not passed yet, the sweep keeps the history
    lifecycle.history_purge_due(now=contract.retain_until - datetime.timedelta(seconds=1))
    assert PaymentHistory.objects.count() == 2
    assert DailySummary.objects.filter(merchant=mayor).count() == 1

    # When: it has passed, the history (and the summaries and the merchant) go
    reports = lifecycle.history_purge_due(now=contract.retain_until)
    assert PaymentHistory.objects.count() == 0
    assert not DailySummary.objects.filter(merchant_id=mayor.pk).exists()
    assert not Merchant.objects.filter(pk=mayor.pk).exists()
    assert DailySummary.objects.filter(merchant=other).count() == 1
    (purge,) = reports
    assert purge.kind == DeletionReport.Kind.RETENTION_END
    assert purge.deleted == {
        "kessai_daily_summary": 1,
        "kessai_merchant": 1,
        "kessai_payment_history": 2,
    }
    contract.refresh_from_db()
    assert contract.purged_at == contract.retain_until
    # Running the sweep again deletes nothing more and reports nothing more
    assert history_sweep() == 0
    assert DeletionReport.objects.count() == 2
    assert "保存期間経過による削除" in admin.get("/reports").content.decode()


def test_contract_cannot_end_twice(merchants: list[Merchant]) -> None:
    lifecycle.merchant_contract_end(merchant=merchants[0], ended_by="test")
    with pytest.raises(lifecycle.ContractAlreadyEnded):
        lifecycle.merchant_contract_end(merchant=merchants[0], ended_by="test")
    assert DeletionReport.objects.count() == 1


def test_contract_end_waits_for_attempts_awaiting_the_provider(
    merchants: list[Merchant], admin: Client
) -> None:
    # Given: an attempt whose answer has not arrived (money may have moved)
    payment = make_payment(merchants[0], 800, "INFLIGHT-1")
    Attempt.objects.create(payment=payment, method="card", status=Attempt.Status.UNKNOWN)
    # When: the administrator ends the contract
    response = admin.post("/merchants/mayor/end", {"confirm_code": "mayor"})
    # Then: refused, and nothing was deleted
    assert response.status_code == 400
    assert "応答を待っている支払" in response.content.decode()
    assert Payment.objects.filter(pk=payment.pk).exists()
    assert Merchant.objects.get(code="mayor").is_active
    assert not DeletionReport.objects.exists()
    assert not ContractEnd.objects.exists()


def test_contract_end_deletes_refunds_and_keeps_the_refunded_status(
    merchants: list[Merchant],
) -> None:
    # Given: a paid payment that was refunded in full (refunds protect their payment)
    from madoguchi.kessai.payments import services
    from madoguchi.kessai.payments.models import Refund
    from madoguchi.kessai.providers.base import RefundResult

    payment = succeed_at(make_payment(merchants[0], 1500, "REFUNDED-1"), timezone.now())
    refund = services.refund_create(payment=payment, amount=1500, expected_refundable_amount=1500)
    services.refund_finish(refund=refund, result=RefundResult(succeeded=True))
    payment.refresh_from_db()
    assert payment.status == "refunded"
    # When: the contract ends
    lifecycle.merchant_contract_end(merchant=merchants[0], ended_by="test")
    # Then: the refund went with the payment; the history keeps the final status
    assert not Refund.objects.exists()
    assert not Payment.objects.filter(pk=payment.pk).exists()
    assert PaymentHistory.objects.get(reference="REFUNDED-1").status == "refunded"
