"""Issue #13 in a real browser against the real processes: the demo's
教育委員会 collects its fees through SBPS's link type (the SBPS simulator's
own process and page), and its card payments in Kessai go through SBPS's API.

The file name sorts before test_card_journey.py on purpose: that test ends by
stopping the shared system to scan its files.
"""

import json
import re
import secrets
import sqlite3
import urllib.request
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import reload_until
from tests.e2e.test_accessible_journeys import check_axe
from tests.e2e.test_approved_refund_journey import staff_login, wait_for
from tests.e2e.test_card_journey import fill_application

pytestmark = pytest.mark.e2e

PROCEDURE = "公民館の使用申請"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
AGENCY = "kyoiku-iinkai"


def call(url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - our own local listeners
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def sbps_control(system: dict[str, Any], **body: Any) -> None:
    call(system["urls"]["sbps_simulator"] + "/_sim/sbps/control", body)


def sbps_books(system: dict[str, Any]) -> dict[str, Any]:
    return dict(call(system["urls"]["sbps_simulator"] + "/_sim/sbps/books"))


def apply_and_get_accepted(system: dict[str, Any], browser: Any) -> tuple[Any, str]:
    urls = system["urls"]
    citizen = browser.new_context(locale="ja-JP").new_page()
    citizen.goto(urls["shinsei_public"] + "/")
    citizen.get_by_role("link", name=PROCEDURE).click()
    citizen.get_by_role("button", name="申請を始める").click()
    fill_application(citizen)
    citizen.get_by_role("button", name="次へ進む").click()
    citizen.get_by_label("使用する部屋").select_option("大会議室")
    citizen.get_by_role("button", name="次へ進む").click()
    expect(citizen.get_by_test_id("fee")).to_have_text("1,200円")  # as on SBPS's page and Kessai's
    citizen.get_by_role("button", name="この内容で申請する").click()
    reference = citizen.get_by_test_id("reference").inner_text()

    account = next(a for a in system["accounts"]["shinsei_staff"]
                   if a["login_id"] == "staff-shougai-gakushu")  # fmt: skip
    staff = browser.new_context(locale="ja-JP").new_page()
    staff.goto(urls["shinsei_staff"] + "/login")
    staff.get_by_label("ログインID").fill(account["login_id"])
    staff.get_by_label("パスワード").fill(account["password"])
    staff.get_by_role("button", name="ログイン").click()
    staff.get_by_role("link", name=reference).click()
    staff.locator("#accept-button").click()
    expect(staff.get_by_test_id("status")).to_have_text("受理")
    staff.context.close()

    citizen.get_by_role("link", name="申請状況を見る").click()
    expect(citizen.get_by_test_id("status")).to_be_visible()  # the status page, not /submitted
    reload_until(citizen, citizen.locator("#pay-button"))
    return citizen, reference


def press_pay(citizen: Any, system: dict[str, Any], reference: str) -> None:
    """支払う: Shinsei's page posts the purchase request to SBPS by itself."""
    citizen.locator("#pay-button").click()
    citizen.wait_for_url(system["urls"]["sbps_simulator"] + "/f01/pay/**")
    expect(citizen.locator("#order-id")).to_have_text(reference)
    expect(citizen.locator("#amount")).to_have_text("1,200円")
    expect(citizen.locator("#item-name")).to_have_text("手数料")  # Shift_JIS came through
    html = citizen.content()  # read once the expect() above has seen the page
    assert "雪ノ下" not in html
    assert PROCEDURE not in html


def back_to_shinsei(citizen: Any, system: dict[str, Any], reference: str) -> None:
    citizen.locator("#back-button").click()
    citizen.wait_for_url(system["urls"]["shinsei_public"] + f"/applications/{reference}/")


def paid_events(system: dict[str, Any], reference: str) -> int:
    shinsei = sqlite3.connect(system["var"] / "shinsei.sqlite3")
    try:
        return int(
            shinsei.execute(
                "select count(*) from shinsei_application_event e join shinsei_application a"
                " on a.id = e.application_id where a.reference = ? and e.type = 'paid'",
                (reference,),
            ).fetchone()[0]
        )
    finally:
        shinsei.close()


def test_citizens_pay_an_sbps_agency_by_card_and_by_paypay(
    system: dict[str, Any], browser: Any
) -> None:
    # Journey 1: by card, and the result notification is lost on the way.
    citizen, reference = apply_and_get_accepted(system, browser)
    press_pay(citizen, system, reference)
    # SBPS's page (its simulator): Japanese, headed, every box labelled, the
    # expiry's one-box format said, no WCAG violation.
    expect(citizen.locator("html")).to_have_attribute("lang", "ja")
    expect(citizen.get_by_role("heading", level=2, name="クレジットカード")).to_be_visible()
    expect(citizen.get_by_label("カード番号")).to_be_visible()
    expect(citizen.get_by_label("有効期限")).to_have_accessible_description(
        "年4桁と月2桁を続けて（例：203012）"
    )
    expect(citizen.get_by_label("セキュリティコード")).to_be_visible()
    check_axe(citizen, citizen_page=False)
    sbps_control(system, notification="drop")
    citizen.locator("#cc-number").fill(CARD_DECLINED)
    citizen.locator("#cc-expiration").fill(f"{date.today().year + 3}12")
    citizen.locator("#security-code").fill("123")
    citizen.locator("#pay-card").click()
    expect(citizen.locator("body")).to_contain_text("このカードはご利用になれません")
    citizen.locator("#cc-number").fill(CARD_OK)
    citizen.locator("#cc-expiration").fill(f"{date.today().year + 3}12")
    citizen.locator("#security-code").fill("123")
    citizen.locator("#pay-card").click()
    expect(citizen.locator("body")).to_contain_text("お支払いが完了しました")
    [lost] = [n for n in sbps_books(system)["notifications"] if n["order_id"] == reference]
    assert lost["answer"] == "(lost)"
    back_to_shinsei(citizen, system, reference)
    # Recovered by SBPS's 決済結果参照 with the tracking id the browser brought.
    expect(citizen.get_by_test_id("payment-status")).to_have_text("決済済")
    expect(citizen.get_by_test_id("payment-method")).to_have_text("クレジットカード")
    expect(citizen.get_by_test_id("paid-at")).to_have_text(
        re.compile("^" + re.escape(f"{date.today().year}年"))
    )

    # Journey 2: by PayPay, and the notification arrives twice.
    citizen, reference = apply_and_get_accepted(system, browser)
    press_pay(citizen, system, reference)
    sbps_control(system, notification="duplicate")
    citizen.locator("#pay-paypay").click()
    citizen.locator("#paypay-approve").click()
    back_to_shinsei(citizen, system, reference)
    expect(citizen.get_by_test_id("payment-status")).to_have_text("決済済")
    expect(citizen.get_by_test_id("payment-method")).to_have_text("PayPay")
    paid_at = citizen.get_by_test_id("paid-at").inner_text()
    sent = [n for n in sbps_books(system)["notifications"] if n["order_id"] == reference]
    assert [n["answer"] for n in sent] == ["OK,", "OK,"]
    # The date is the notification's res_payment_date (JST), to the minute.
    stamp = sent[0]["res_payment_date"]
    day = f"{int(stamp[:4])}年{int(stamp[4:6])}月{int(stamp[6:8])}日"
    assert paid_at == f"{day} {stamp[8:10]}:{stamp[10:12]}"
    # Sent a third time: still answered OK, and nothing changes.
    resend = urllib.request.Request(  # noqa: S310
        system["urls"]["sbps_simulator"] + f"/_sim/sbps/resend?order_id={reference}", data=b""
    )
    with urllib.request.urlopen(resend, timeout=10) as response:  # noqa: S310
        assert json.load(response) == {"answer": "OK,"}
    citizen.reload()
    expect(citizen.get_by_test_id("paid-at")).to_have_text(paid_at)
    assert paid_events(system, reference) == 1

    # Staff see the same, as for any agency.
    account = next(a for a in system["accounts"]["shinsei_staff"]
                   if a["login_id"] == "staff-shougai-gakushu")  # fmt: skip
    staff = browser.new_context(locale="ja-JP").new_page()
    staff.goto(system["urls"]["shinsei_staff"] + "/login")
    staff.get_by_label("ログインID").fill(account["login_id"])
    staff.get_by_label("パスワード").fill(account["password"])
    staff.get_by_role("button", name="ログイン").click()
    staff.get_by_role("link", name=reference).click()
    expect(staff.get_by_test_id("payment-status")).to_have_text("決済済")
    expect(staff.get_by_test_id("payment-method")).to_have_text("PayPay")


def pay_by_card_on_sbps(citizen: Any) -> None:
    citizen.locator("#cc-number").fill(CARD_OK)
    citizen.locator("#cc-expiration").fill(f"{date.today().year + 3}12")
    citizen.locator("#security-code").fill("123")
    citizen.locator("#pay-card").click()
    expect(citizen.locator("body")).to_contain_text("お支払いが完了しました")


def test_staff_refund_part_of_an_sbps_card_payment_with_a_second_person(
    system: dict[str, Any], browser: Any
) -> None:
    # Issue #14 for an agency on SBPS: a card payment of 1,200円 on SBPS's page.
    citizen, reference = apply_and_get_accepted(system, browser)
    press_pay(citizen, system, reference)
    pay_by_card_on_sbps(citizen)
    back_to_shinsei(citizen, system, reference)
    expect(citizen.get_by_test_id("payment-status")).to_have_text("決済済")

    # 生涯学習課 asks for 500円 back; its own account cannot approve it.
    staff = staff_login(browser, system, "staff-shougai-gakushu")
    staff.goto(system["urls"]["shinsei_staff"] + f"/applications/{reference}/")
    staff.get_by_label("返金額（円）").fill("500")
    staff.get_by_label("返金の理由").select_option("not_issued")
    staff.locator("#refund-request-button").click()
    expect(staff.locator("body")).to_contain_text("返金を申請しました")
    expect(staff.locator("[id^=refund-approve-]")).to_have_count(0)

    # 教育委員会's reviewer approves; the worker sends 部分返金 to SBPS.
    reviewer = staff_login(browser, system, "reviewer-kyoiku")
    reviewer.goto(system["urls"]["shinsei_staff"] + f"/applications/{reference}/")
    reviewer.locator("[id^=refund-approve-]").click()
    wait_for(reviewer, "refund-status", "返金済")
    wait_for(reviewer, "payment-status", "一部返金", tries=4)
    citizen.reload()
    expect(citizen.get_by_test_id("payment-status")).to_have_text("一部返金")
    expect(citizen.get_by_test_id("refunded")).to_have_text("500円")
    # SBPS's books agree: the sale refunded once, by 500円.
    [sale] = [t for t in sbps_books(system)["transactions"] if t["order_id"] == reference]
    assert [(r["request_id"], r["amount"]) for r in sale["refunds"]] == [("ST02-00307-101", 500)]
    assert sale["refunded"] == 500


def test_kessai_charges_and_refunds_through_sbps_api(system: dict[str, Any], browser: Any) -> None:
    urls = system["urls"]
    key = system["merchants"][AGENCY]["api_key"]
    auth = {"Authorization": f"Bearer {key}"}
    payment = call(
        urls["kessai_public"] + "/api/v1/payments",
        {"reference": "E2E-" + secrets.token_hex(6), "amount": 1500,
         "return_url": urls["shinsei_public"] + "/"},
        {**auth, "Idempotency-Key": secrets.token_hex(8)},
    )  # fmt: skip
    page = browser.new_context(locale="ja-JP").new_page()
    page.goto(payment["next_url"])

    for number in (CARD_DECLINED, CARD_OK):
        page.get_by_label("カード番号").fill(number)
        page.get_by_label("月", exact=True).select_option("12")
        page.get_by_label("年", exact=True).select_option(str(date.today().year + 3))
        page.get_by_label("セキュリティコード").fill("123")
        page.locator("#pay-button").click()
        if number == CARD_DECLINED:
            expect(page.locator("body")).to_contain_text("カードが承認されませんでした")
    expect(page.locator("body")).to_contain_text("お支払いが完了しました")

    refund = call(
        urls["kessai_public"] + f"/api/v1/payments/{payment['id']}/refunds",
        {"amount": 400, "expected_refundable_amount": 1500},
        {**auth, "Idempotency-Key": secrets.token_hex(8)},
    )
    assert refund["status"] == "succeeded"
    kessai = call(urls["kessai_public"] + f"/api/v1/payments/{payment['id']}", None, auth)
    [sale] = [t for t in sbps_books(system)["transactions"]
              if t["order_id"].startswith(payment["id"] + "_")]  # fmt: skip
    # The books agree: one sale of 1500 yen by card, 400 of it refunded.
    assert (kessai["status"], kessai["amount"], kessai["refunded_amount"]) == (
        "succeeded",
        1500,
        400,
    )
    assert (sale["interface"], sale["amount"], sale["refunded"], sale["commit_status"]) == (
        "api",
        1500,
        400,
        "1",
    )
    assert re.fullmatch(r"\d{14}", sale["tracking_id"])
    assert sale["last4"] == "4242"
