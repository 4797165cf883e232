"""Issue #14's journey with real processes in headless Chromium: a citizen
pays 1,200円 by card; the department's staff request a partial refund (300円)
and cannot approve it themselves; the agency's reviewer approves; the
worker sends it to Kessai, the acquirer simulator has it, and the citizen's
status page (in Japanese and in English), the staff page and Kessai's
console all show it in words and in one format of amounts and dates: no
raw codes, 一部返金 and never 全額返金, 1,200円, 2026年12月8日 06:42.

(The file name sorts before test_card_journey.py, which stops the shared
system at its end.)"""

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import console_login, reload_until
from tests.e2e.test_card_journey import PAN, PROCEDURE, fill_application, pay_by_card

pytestmark = pytest.mark.e2e

# 2026年12月8日 06:42, the one format of a moment on staff and console pages.
MOMENT = r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"
# Codes that must never reach a reader instead of their words.
RAW_CODES = re.compile(r"\b(succeeded|not_issued|refund_\w+|payment_\w+|partially_refunded)\b")


def staff_login(browser: Any, system: dict[str, Any], login_id: str) -> Any:
    account = next(a for a in system["accounts"]["shinsei_staff"] if a["login_id"] == login_id)
    page = browser.new_context(locale="ja-JP").new_page()
    page.goto(system["urls"]["shinsei_staff"] + "/login")
    page.get_by_label("ログインID").fill(account["login_id"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_test_id("account-name")).to_be_visible()  # logged in before moving on
    return page


def wait_for(page: Any, test_id: str, text: str, tries: int = 60) -> None:
    """Reload until the worker has done its part."""
    reload_until(page, page.get_by_test_id(test_id).first, text, seconds=tries)


def test_partial_refund_requested_approved_and_shown_everywhere(
    system: dict[str, Any], browser: Any
) -> None:
    urls = system["urls"]
    citizen = browser.new_context(locale="ja-JP").new_page()

    # The citizen applies for four copies (1,200円).
    citizen.goto(urls["shinsei_public"] + "/")
    citizen.get_by_role("link", name=PROCEDURE).click()
    citizen.get_by_role("button", name="申請を始める").click()
    fill_application(citizen)
    citizen.get_by_role("button", name="次へ進む").click()
    citizen.get_by_label("通数").fill("4")
    citizen.get_by_label("使用目的").select_option("就職")
    citizen.get_by_role("button", name="次へ進む").click()
    expect(citizen.get_by_test_id("fee")).to_have_text("1,200円")
    citizen.get_by_role("button", name="この内容で申請する").click()
    reference = citizen.get_by_test_id("reference").inner_text()

    # 市民課 accepts; the citizen pays by card.
    staff = staff_login(browser, system, "staff-shimin")
    staff.goto(urls["shinsei_staff"] + f"/applications/{reference}/")
    expect(staff.get_by_test_id("fee")).to_have_text("1,200円")
    staff.locator("#accept-button").click()
    expect(staff.get_by_test_id("status")).to_have_text("受理")
    citizen.get_by_role("link", name="申請状況を見る").click()
    expect(citizen.get_by_test_id("status")).to_be_visible()  # the status page, not /submitted
    expect(citizen.get_by_test_id("fee")).to_have_text("1,200円")

    # An accepted application cannot be withdrawn: the link is gone, and the
    # confirmation page itself (an old link) refuses before asking.
    expect(citizen.locator("#withdraw-link")).to_have_count(0)
    citizen.goto(urls["shinsei_public"] + f"/applications/{reference}/withdraw")
    expect(citizen.get_by_role("alert")).to_contain_text("受理された申請は取り下げできません。")
    expect(citizen.get_by_role("heading", level=1)).to_have_text("申請状況")
    expect(citizen.get_by_test_id("status")).to_have_text("受理")

    # The staff inbox dates the application as the detail page does.
    staff.goto(urls["shinsei_staff"] + "/")
    row = staff.locator("tr", has=staff.get_by_role("link", name=reference))
    expect(row).to_contain_text(re.compile(MOMENT))
    expect(row).not_to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    staff.goto(urls["shinsei_staff"] + f"/applications/{reference}/")
    reload_until(citizen, citizen.locator("#pay-button"))
    citizen.locator("#pay-button").click()
    citizen.wait_for_url(urls["kessai_public"] + "/pay/**")
    pay_by_card(citizen, PAN)
    expect(citizen.locator("body")).to_contain_text("お支払いが完了しました")
    citizen.locator("#back-button").click()
    citizen.wait_for_url(urls["shinsei_public"] + "/applications/**")
    expect(citizen.get_by_test_id("payment-status")).to_have_text("決済済")

    # Only one copy could be issued: 市民課 asks for 300円 back.
    staff.reload()
    wait_for(staff, "payment-status", "決済済")
    staff.get_by_label("返金額（円）").fill("300")
    staff.get_by_label("返金の理由").select_option("not_issued")
    staff.get_by_label("理由の詳細").fill("2通の申請のうち1通のみ交付")
    staff.locator("#refund-request-button").click()
    expect(staff.locator("body")).to_contain_text("返金を申請しました")
    expect(staff.get_by_test_id("refund-status")).to_have_text("承認待ち")

    # The requester cannot approve it: no button, and a forged POST is refused.
    expect(staff.locator("body")).to_contain_text("自分が申請した返金は承認できません")
    expect(staff.locator("[id^=refund-approve-]")).to_have_count(0)
    row = staff.locator("[data-testid^=refund-]").first.get_attribute("data-testid")
    refund_id = row.removeprefix("refund-")
    token = staff.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    forged = staff.request.post(
        urls["shinsei_staff"] + f"/applications/{reference}/refunds/{refund_id}/approve",
        form={"csrfmiddlewaretoken": token},
    )
    assert forged.status == 403
    staff.reload()
    expect(staff.get_by_test_id("refund-status")).to_have_text("承認待ち")

    refunds_before = {(t["merchant"], t["order_id"]): len(t["refunds"]) for t in _sbps_sales(urls)}

    # The agency's reviewer approves it (決裁).
    reviewer = staff_login(browser, system, "reviewer-mayor")
    reviewer.goto(urls["shinsei_staff"] + f"/applications/{reference}/")
    reviewer.get_by_label("決裁のメモ").fill("交付記録を確認")
    reviewer.locator(f"#refund-approve-{refund_id}").click()
    expect(reviewer.locator("body")).to_contain_text("返金を承認しました")

    # The worker sends it; Shinsei shows 一部返金 to staff and to the citizen.
    wait_for(reviewer, "refund-status", "返金済")
    # One page reads the application and its refunds in separate queries:
    # a render right at the worker's commit may show one before the other.
    wait_for(reviewer, "payment-status", "一部返金", tries=4)
    expect(reviewer.get_by_test_id("refunded")).to_have_text(re.compile("^" + re.escape("300円")))
    citizen.reload()
    expect(citizen.get_by_test_id("payment-status")).to_have_text("一部返金")
    expect(citizen.get_by_test_id("refunded")).to_have_text("300円")
    expect(citizen.get_by_test_id("refunded-at")).to_have_text(re.compile(f"^{MOMENT}$"))

    # The same page in English: words, ¥1,200 and 8 December 2026, 06:42.
    citizen.goto(urls["shinsei_public"] + f"/applications/{reference}/?lang=en")
    expect(citizen.locator("html")).to_have_attribute("lang", "en")
    expect(citizen.get_by_test_id("status")).to_have_text("Accepted")
    expect(citizen.get_by_test_id("payment-status")).to_have_text("Partly refunded")
    expect(citizen.get_by_test_id("fee")).to_have_text("¥1,200")
    expect(citizen.get_by_test_id("refunded")).to_have_text("¥300")
    expect(citizen.get_by_test_id("refunded-at")).to_have_text(
        re.compile(r"^\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}$")
    )
    citizen.goto(urls["shinsei_public"] + f"/applications/{reference}/?lang=ja")
    expect(citizen.locator("html")).to_have_attribute("lang", "ja")

    # Staff history reads in words: who asked, why, who approved, the refund done.
    events = reviewer.get_by_test_id("event")
    expect(events.filter(has_text="返金の申請")).to_have_count(1)
    expect(events.filter(has_text="返金の承認")).to_have_count(1)
    expect(events.filter(has_text="返金完了")).to_have_count(1)
    expect(reviewer.locator("ul.events")).to_contain_text("300円")
    expect(reviewer.locator("ul.events")).to_contain_text("交付できなかった")
    expect(reviewer.locator("ul.events")).not_to_contain_text(RAW_CODES)
    expect(events.first).to_contain_text(re.compile(f"^{MOMENT}"))
    expect(reviewer.get_by_test_id("refund-status")).to_have_text(
        re.compile(f"^返金済（{MOMENT}）$")
    )

    # Kessai's console shows the refund on the payment, in the register and
    # in the day's figures.
    console = browser.new_context(locale="ja-JP").new_page()
    console_login(console, system)
    console.goto(urls["kessai_console"] + f"/?reference={reference}")
    console.get_by_role("link", name=re.compile(r"^pay_")).first.click()
    expect(console.get_by_test_id("refunded-amount")).to_have_text("300円")
    expect(console.get_by_test_id("refundable-amount")).to_have_text("900円")
    # The refund's state in words, the payment's event and notification
    # named for what they did: a part (300円 of 1,200円), not the whole.
    expect(console.get_by_test_id("refunds")).to_contain_text("返金済")
    expect(console.get_by_test_id("refunds")).to_contain_text(re.compile(MOMENT))
    expect(console.get_by_test_id("refunds")).not_to_contain_text(RAW_CODES)
    expect(console.locator("main")).to_contain_text("1,200円")
    expect(console.locator("main")).to_contain_text("一部返金")
    expect(console.locator("main")).not_to_contain_text("全額返金")
    expect(console.locator("dl.summary")).to_contain_text(re.compile(f"決済日時{MOMENT}"))
    expect(console.locator("dl.summary")).not_to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    refunds_table = console.get_by_test_id("refunds").inner_text()
    kessai_refund_id = re.search(r"ref_[0-9a-f]{24}", refunds_table)
    assert kessai_refund_id is not None
    console.goto(urls["kessai_console"] + "/refunds")
    expect(console.get_by_test_id("refund-register")).to_contain_text(reference)
    console.goto(urls["kessai_console"] + "/dashboard")
    expect(console.locator("body")).to_contain_text("300円")

    # SBPS (the demo's card path, its simulator) has the one refund of 300円
    # against the sale.
    # The simulator's books are shared by the session's tests: the sale is the
    # one whose refunds grew since before the approval.
    [sale] = [
        t
        for t in _sbps_sales(urls)
        if len(t["refunds"]) > refunds_before.get((t["merchant"], t["order_id"]), 0)
    ]
    assert [r["amount"] for r in sale["refunds"]] == [300]
    assert (sale["amount"], sale["refunded"]) == (1200, 300)


def _sbps_sales(urls: dict[str, str]) -> list[dict[str, Any]]:
    """The SBPS simulator's transactions, with their refunds."""
    with urllib.request.urlopen(  # noqa: S310 - the local simulator
        urls["sbps_simulator"] + "/_sim/sbps/books", timeout=5
    ) as response:
        transactions: list[dict[str, Any]] = json.loads(response.read())["transactions"]
    return transactions
