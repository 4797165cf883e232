"""Journeys on the payment page that end badly: every POST redirects
(POST/redirect/GET), errors are announced and focused, and ids referred to by
aria-describedby exist (issue 9, items 19, 23 and 24)."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.contract import schemas
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Payment
from tests.conftest import CARD_DECLINED, CARD_OK
from tests.support.journey import pay_by_card, shown_after


@pytest.fixture
def payment(demo: dict[str, Any]) -> Payment:
    return services.payment_create(
        merchant=Merchant.objects.get(code="mayor"),
        request=schemas.PaymentCreateRequest(
            reference="810000000001", amount=300, return_url="http://shinsei.test/back"
        ),
    )


@pytest.fixture
def page(payer: Client, payment: Payment) -> str:
    raw, _ = services.checkout_token_create(payment=payment)
    return str(payer.get(f"/checkout/{raw}/")["Location"])


@pytest.mark.parametrize(
    ("post", "message"),
    [
        pytest.param(lambda c, p: pay_by_card(c, p, ""), "カード番号を入力", id="invalid form"),
        pytest.param(
            lambda c, p: pay_by_card(c, p, CARD_DECLINED), "承認されませんでした", id="decline"
        ),
        pytest.param(
            lambda c, p: c.post(p + "applepay/demo", {"token": json.dumps({"x": 1})}),
            "Apple Payでお支払いできませんでした",
            id="apple pay",
        ),
    ],
)
def test_every_post_redirects_and_the_message_is_shown_once(
    payer: Client, page: str, post: Any, message: str
) -> None:
    response = post(payer, page)
    assert response.status_code == 302  # Back never lands on a POST's result
    assert response["Location"] == page
    assert message in shown_after(payer, response)
    assert message not in payer.get(page).content.decode()  # a reload is a fresh page


def test_paypay_cancel_redirects_to_a_neutral_banner(payer: Client, page: str) -> None:
    started = payer.post(page + "paypay/start")
    assert started.status_code == 302
    waiting = payer.get(page).content.decode()
    assert re.search(r'class="notice notice-info"[^>]*><p>PayPayでのお支払いの途中です', waiting)
    text = shown_after(payer, payer.post(page + "paypay/cancel"))
    assert re.search(r'class="notice notice-info"[^>]*><p>PayPayでのお支払いを中止しました', text)
    assert "notice-error" not in text


def test_a_success_after_a_decline_goes_back_through_get_pages(payer: Client, page: str) -> None:
    shown_after(payer, pay_by_card(payer, page, CARD_DECLINED))
    assert pay_by_card(payer, page, CARD_OK)["Location"] == page + "complete"
    # Going Back re-requests the GET page, which now says it is paid.
    assert "このお支払いは完了しています" in payer.get(page).content.decode()


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


@pytest.mark.parametrize("number", ["", "4242424242424241"])
def test_described_by_ids_exist_and_the_summary_is_focused(
    payer: Client, page: str, number: str
) -> None:
    for html in (
        payer.get(page).content.decode(),
        shown_after(payer, payer.post(page + "card", {"card_number": number})),
    ):
        ids = _ids(html)
        described = [
            token
            for value in re.findall(r'aria-describedby="([^"]+)"', html)
            for token in value.split()
        ]
        assert described
        assert set(described) <= ids, set(described) - ids
        assert len(re.findall(r'\sid="([^"]+)"', html)) == len(ids)  # no duplicate ids
    assert re.search(r'<div class="error-summary"[^>]*autofocus', html)
    summary = html[html.index('id="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    for label in ("カード番号：", "セキュリティコード：", "有効期限（月）："):
        assert label not in summary  # the message names the field once


def test_decline_banner_is_focused(payer: Client, page: str) -> None:
    html = shown_after(payer, pay_by_card(payer, page, CARD_DECLINED))
    assert re.search(r'<div class="notice notice-error" role="alert"[^>]*autofocus', html)


def test_english_page_has_no_japanese_but_the_agencys_name(payer: Client, page: str) -> None:
    html = payer.get(page + "?lang=en").content.decode()
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", html, flags=re.S))
    japanese = re.findall(r"[\u3040-\u30ff\u3400-\u9fff「」、。（）：]+", text)
    assert set(japanese) <= {"日本語", "藤沢市（市長）"}, japanese
    declined = shown_after(payer, pay_by_card(payer, page, CARD_DECLINED))
    assert "The card was declined." in declined
