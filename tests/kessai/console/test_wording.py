"""The console says what happened in plain Japanese, and its charts are
readable: no clipped axis labels, values on the bars (issue 9, item 27)."""

import re

from django.test import Client
from django.utils import timezone

from madoguchi.kessai.console import charts
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Notification, Payment
from madoguchi.kessai.providers.base import ProviderResult, RefundResult
from tests.kessai.console.conftest import make_payment, succeed_at


def test_a_payment_whose_attempts_all_failed_is_not_in_progress(
    merchants: list[Merchant], admin: Client
) -> None:
    payment = make_payment(merchants[0], 500, "WORDS-0001")
    Payment.objects.filter(pk=payment.pk).update(status="started")  # the citizen tried
    attempt = Attempt.objects.create(payment=payment, method="card")
    services.attempt_finish(
        attempt=attempt, result=ProviderResult(succeeded=False, decline_code="card_declined")
    )
    payment.refresh_from_db()
    assert payment.status == "started"
    text = admin.get(f"/transactions/{payment.public_id}").content.decode()
    assert "決済手続中" not in text
    assert '<dd data-testid="status">未決済（支払操作あり）</dd>' in text
    assert "<td>不成立</td><td>カード会社が承認しなかった</td>" in text
    assert "card_declined" not in text
    assert ">declined<" not in text
    assert "支払の試行が不成立" in text
    listed = admin.get("/", {"reference": "WORDS-0001"}).content.decode()
    assert "決済手続中" not in listed
    # While an attempt is open, it is in progress.
    Attempt.objects.create(payment=payment, method="card", status="requires_action")
    text = admin.get(f"/transactions/{payment.public_id}").content.decode()
    assert '<dd data-testid="status">決済手続中</dd>' in text
    assert "利用者の操作待ち" in text


def test_unknown_codes_are_marked_not_passed_off() -> None:
    from madoguchi.kessai.console.selectors import event_label, reason_label

    assert reason_label("something_new") == "その他（something_new）"
    assert event_label("payment.created") == "決済の作成"


def test_line_chart_labels_fit_inside_the_picture() -> None:
    labels = [f"11/{d:02d}" for d in range(1, 32)]
    chart = charts.line_chart(labels, [("決済金額", "line-amount", list(range(31)))])
    half_label = 5 * 6.5 / 2  # 5 characters of 11 px text, centred
    assert chart.ticks[0].x >= half_label
    assert chart.ticks[-1].x <= chart.width - half_label
    assert chart.ticks[-1].label == "11/31"


def test_bars_carry_their_values(merchants: list[Merchant], admin: Client) -> None:
    chart = charts.bar_chart([("クレジットカード", 123_400), ("PayPay", 9_800), ("Apple Pay", 0)])
    assert [b.value_text for b in chart.bars] == ["12.3万円", "9,800円", "0円"]
    assert all(b.value_y >= 12 for b in chart.bars)
    succeed_at(make_payment(merchants[0], 3000), timezone.now())
    page = admin.get("/dashboard").content.decode()
    assert re.search(r'<text class="value"[^>]*>[^<]*円</text>', page)


def _refunded(payment: Payment, amount: int) -> None:
    refund = services.refund_create(
        payment=payment, amount=amount, expected_refundable_amount=payment.refundable_amount
    )
    services.refund_finish(refund=refund, result=RefundResult(succeeded=True))
    payment.refresh_from_db()


def test_a_partial_refund_is_not_called_a_full_one(
    merchants: list[Merchant], admin: Client
) -> None:
    payment = succeed_at(make_payment(merchants[0], 600, "WORDS-0002"), timezone.now())
    _refunded(payment, 200)
    text = admin.get(f"/transactions/{payment.public_id}").content.decode()
    events = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>", text)
    assert "一部返金" in events
    assert "全額返金" not in text  # in the timeline and in the notification log
    assert re.search(r"<h3>一部返金（evt_", text)
    assert "<td>返金済</td>" in text
    assert ">succeeded<" not in text
    # The rest refunded: that refund, and only it, leaves the payment fully refunded.
    _refunded(payment, 400)
    text = admin.get(f"/transactions/{payment.public_id}").content.decode()
    events = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>", text)
    assert [e for e in events if "返金" in e and e != "返金の依頼"] == ["一部返金", "全額返金"]
    assert re.findall(r"<h3>([^（<]*)（evt_", text)[-2:] == ["一部返金", "全額返金"]


def test_failed_notifications_read_in_words(merchants: list[Merchant], admin: Client) -> None:
    payment = succeed_at(make_payment(merchants[0], 600, "WORDS-0003"), timezone.now())
    Notification.objects.filter(payment=payment).update(status="gave_up", attempts=12)
    page = admin.get("/notifications/failed").content.decode()
    row = page[page.index("WORDS-0003") :]
    row = row[: row.index("</tr>")]
    assert "gave_up" not in row
    assert "payment.succeeded" not in row
    assert "配信を断念" in row
    assert "決済完了" in row
