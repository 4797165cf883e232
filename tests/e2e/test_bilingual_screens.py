"""What citizens and staff read, in a real browser, in Japanese and in
English: the privacy block and the privacy-notice page, an address in
English, the procedure-management form in Japanese, a withdrawn
application with nothing left to pay (no 支払期限, 支払う refused in words,
the old payment link saying it was cancelled), a lost card answer offering
no second attempt, and one format of amounts (1,200円, ¥1,200) and dates
(2026年12月8日, 8 December 2026).

Named to run before test_card_journey.py, which stops the shared system."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import reload_until
from tests.e2e.test_3ds_and_wallets import CARD_OK, fill_card
from tests.e2e.test_accessible_journeys import _fill_step1, new_page, staff_login
from tests.e2e.test_an_sbps_agency import sbps_control
from tests.e2e.test_bad_endings import open_payment

pytestmark = pytest.mark.e2e

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
DAY_JA = r"\d{4}年\d{1,2}月\d{1,2}日"
DAY_EN = r"\d{1,2} [A-Z][a-z]+ \d{4}"
# SBPS API 3-D Secure 認証要求: its answer lost, nobody knows whether it went through.
TDS_AUTHENTICATION = "TA02-00101-101"


def fill_step1_in_any_language(page: Any) -> None:
    """Step 1 by the boxes' ids: their labels differ by language, the
    prefecture's value does not."""
    page.locator("#id_name").fill("辻堂 太郎")
    page.locator("#id_name_kana").fill("ツジドウ タロウ")
    page.locator("#id_birth_date").fill("1980-01-02")
    page.locator("#id_address__postal_code").fill("251-0047")
    page.locator("#id_address__prefecture").select_option("神奈川県")
    page.locator("#id_address__line").fill("藤沢市辻堂1-2-3")
    page.locator("#id_phone").fill("0466-00-0000")


def test_privacy_and_the_address_read_in_both_languages(
    system: dict[str, Any], browser: Any
) -> None:
    base = system["urls"]["shinsei_public"]
    page = new_page(browser, width=1280)

    # Japanese: the start page's privacy block and the notice page.
    page.goto(base + "/procedures/juminhyo/?lang=ja")
    block = page.locator("#privacy-notice")
    expect(block.get_by_role("heading", level=2)).to_have_text("個人情報の取扱い")
    expect(block.locator("dt")).to_have_text(["利用目的", "保存期間"])
    expect(block).to_contain_text(re.compile(r"申請の処理が終わってから\d+年"))
    expect(block).to_contain_text("保有する個人情報の開示・訂正は")
    page.goto(base + "/procedures/juminhyo/privacy")
    expect(page).to_have_title(re.compile("^個人情報の取扱い：住民票の写しの交付申請"))
    expect(page.locator("#privacy-notice dt")).to_have_text(["利用目的", "保存期間"])
    expect(page.get_by_role("link", name="手続のページへ")).to_be_visible()

    # English: the same two places in English (the purpose an administrator
    # typed is the procedure's own text, entered in Japanese only).
    page.goto(base + "/procedures/juminhyo/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    block = page.locator("#privacy-notice")
    expect(block.get_by_role("heading", level=2)).to_have_text("How we handle your personal data")
    expect(block.locator("dt")).to_have_text(["Purpose", "Kept for"])
    kept = block.locator("dd").nth(1)
    expect(kept).to_contain_text(
        re.compile(r"^\d+ year\(s\) after your application has been dealt with \(after that")
    )
    expect(kept).not_to_contain_text(JAPANESE)
    expect(block.locator("p")).not_to_contain_text("個人情報")
    page.goto(base + "/procedures/juminhyo/privacy")
    expect(page).to_have_title(re.compile("^How we handle your personal data: "))
    expect(page.locator("#privacy-notice dt")).to_have_text(["Purpose", "Kept for"])
    page.get_by_role("link", name="Back to the procedure").click()
    expect(page.get_by_role("button", name="Start now")).to_be_visible()

    # An application in English: Kanagawa is shown as Kanagawa, ¥ amounts.
    page.get_by_role("button", name="Start now").click()
    fill_step1_in_any_language(page)
    page.get_by_role("button", name="Continue").click()
    page.locator("#id_copies").fill("4")
    page.locator("#id_purpose").select_option("年金")
    page.get_by_role("button", name="Continue").click()
    address = page.get_by_test_id("answer-address")
    expect(address).to_contain_text("Kanagawa")
    expect(address).not_to_contain_text("神奈川県")
    expect(page.get_by_test_id("answer-purpose")).to_have_text("Pension")
    expect(page.get_by_test_id("answer-birth_date")).to_have_text("2 January 1980")
    expect(page.get_by_test_id("fee")).to_have_text("¥1,200")
    page.get_by_role("button", name="Accept and send").click()
    link = page.get_by_test_id("privacy-link")
    expect(link).to_have_text(
        "How we handle your personal data in this application (purpose and retention)"
    )
    link.click()
    expect(page.locator("#privacy-notice dt")).to_have_text(["Purpose", "Kept for"])
    page.context.close()


def test_an_application_withdrawn_with_its_fee_due_has_nothing_left_to_pay(
    system: dict[str, Any], browser: Any
) -> None:
    urls = system["urls"]

    # 手続の管理 in Japanese: 印鑑登録証明書 is to be paid at submission.
    admin = staff_login(browser, system, "admin-mayor")
    admin.goto(urls["shinsei_staff"] + "/admin/procedures/")
    admin.get_by_role("link", name="印鑑登録証明書の交付申請").click()
    for label in ("所管課", "URL名（半角英数字とハイフン）", "手数料の種類", "手数料（円）",
                  "通数の質問（name）", "支払時期", "質問（JSON）"):  # fmt: skip
        expect(admin.get_by_label(label)).to_be_visible()
    form = admin.locator("form", has=admin.locator("#save-procedure"))
    expect(form).not_to_contain_text(re.compile(r"Department|Slug|Fee kind|Quantity field"))
    expect(admin.get_by_label("所管課").locator("option").first).to_have_text("選択してください")
    expect(admin.locator("main")).not_to_contain_text(re.compile("Select an option|---------"))
    admin.get_by_label("支払時期").select_option(label="申請時に支払う")
    admin.locator("#save-procedure").click()
    expect(admin).to_have_url(re.compile(r"/admin/procedures/$"))
    admin.goto(urls["shinsei_staff"] + "/admin/departments/")
    expect(admin.locator("main label").first).to_be_visible()
    expect(admin.locator("main")).not_to_contain_text(re.compile(r"\bCode\b|\bName\b"))
    admin.context.close()

    # The citizen applies for four copies and is asked to pay at once.
    citizen = new_page(browser, width=1280)
    base = urls["shinsei_public"]
    citizen.goto(base + "/procedures/inkan/?lang=ja")
    citizen.get_by_role("button", name="申請を始める").click()
    _fill_step1(citizen)
    citizen.get_by_role("button", name="次へ進む").click()
    citizen.get_by_label("通数").fill("4")
    citizen.get_by_role("button", name="次へ進む").click()
    expect(citizen.get_by_test_id("fee")).to_have_text("1,200円")
    expect(citizen.locator("main")).to_contain_text("申請の後、続けてお支払いいただきます。")
    citizen.get_by_role("button", name="この内容で申請する").click()
    reference = citizen.get_by_test_id("reference").inner_text()
    status_url = base + f"/applications/{reference}/"
    citizen.goto(status_url)
    reload_until(citizen, citizen.locator("#pay-button"))  # the worker asked Kessai
    due = citizen.locator(".summary-row", has_text="支払期限")
    expect(due.locator("dd")).to_have_text(re.compile(f"^{DAY_JA}$"))
    expect(citizen.get_by_test_id("fee")).to_have_text("1,200円")

    # Kessai's page opened once, then left: its link is kept.
    with citizen.expect_request(re.compile(r"/checkout/")) as checkout:
        citizen.locator("#pay-button").click()
    expect(citizen).to_have_url(re.compile(r".*/pay/pay_\w+/$"))
    checkout_link = checkout.value.url
    expect(citizen.locator("#pay-button")).to_have_text("1,200円を支払う")
    kessai_page = citizen.url

    # Two tabs still show 支払う (one will be pressed in each language);
    # the application is withdrawn in a third.
    stale_ja = citizen.context.new_page()
    stale_ja.goto(status_url)
    stale_en = citizen.context.new_page()
    stale_en.goto(status_url)
    expect(stale_ja.locator("#pay-button")).to_be_visible()
    expect(stale_en.locator("#pay-button")).to_be_visible()
    citizen.goto(status_url)
    citizen.locator("#withdraw-link").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("申請を取り下げますか")
    citizen.locator("#withdraw-confirm").click()
    expect(citizen.get_by_test_id("status")).to_have_text("取下げ")
    reload_until(citizen, citizen.get_by_test_id("payment-status"), "取消")
    expect(citizen.locator("main")).not_to_contain_text("支払期限")
    expect(citizen.locator("#pay-button")).to_have_count(0)

    # 支払う on the old tab: the payment was cancelled, nothing is to be paid.
    stale_ja.locator("#pay-button").click()
    expect(stale_ja.locator(".notice")).to_have_text(
        "この申請のお支払いは取り消されました（取下げ・却下など）。お支払いの必要はありません。"
    )
    expect(stale_ja.locator("main")).not_to_contain_text("準備中")
    expect(stale_ja.locator("main")).not_to_contain_text("支払期限")

    # Kessai's page offers nothing to pay; its old checkout link says how
    # the payment ended.
    citizen.goto(kessai_page)
    expect(citizen.get_by_role("alert")).to_contain_text("取消")
    expect(citizen.locator("#pay-button")).to_have_count(0)
    citizen.goto(checkout_link)
    expect(citizen.locator("#link-ended")).to_have_text(
        "このお支払いは取り消されました。お支払いの必要はありません。"
    )
    expect(citizen.locator("#pay-button")).to_have_count(0)

    # The same in English.
    citizen.goto(status_url + "?lang=en")
    expect(citizen.locator("html")).to_have_attribute("lang", "en")
    expect(citizen.get_by_test_id("status")).to_have_text("Withdrawn")
    expect(citizen.get_by_test_id("payment-status")).to_have_text("Cancelled")
    expect(citizen.get_by_test_id("fee")).to_have_text("¥1,200")
    expect(citizen.locator("main")).not_to_contain_text("Pay by")
    stale_en.locator("#pay-button").click()  # a page in Japanese, answered in English
    expect(stale_en.locator(".notice")).to_contain_text(
        "The payment for this application has been cancelled"
    )
    expect(stale_en.locator("main")).not_to_contain_text("being prepared")
    citizen.goto(checkout_link + ("&" if "?" in checkout_link else "?") + "lang=en")
    expect(citizen.locator("#link-ended")).not_to_contain_text(JAPANESE)
    expect(citizen.locator("#link-ended")).to_contain_text("cancelled")
    citizen.context.close()


@pytest.mark.parametrize(
    ("lang", "awaiting"),
    [("ja", "カード会社からの応答を確認中です。二重に請求されることはありません。"),
     ("en", "You will not be charged twice. Reload this page")],
)  # fmt: skip
def test_a_lost_card_answer_offers_no_second_attempt(
    system: dict[str, Any], browser: Any, lang: str, awaiting: str
) -> None:
    page = open_payment(system, browser)
    pay_url = page.url
    if lang == "en":
        page.goto(pay_url + "?lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.locator("#id_card_number").fill(CARD_OK)
        page.locator("#id_exp_month").select_option("12")
        page.locator("#id_exp_year").select_option(index=3)
        page.locator("#id_security_code").fill("123")
    sbps_control(system, lose_answer_of=TDS_AUTHENTICATION)
    if lang == "en":
        page.locator("#pay-button").click()
    else:
        fill_card(page, CARD_OK)
    notice = page.locator("#payment-awaiting")
    expect(notice).to_contain_text(awaiting)
    # Nothing else may start while the answer is unknown: no card form, no
    # PayPay, no Apple Pay; only the way to look again and the way back.
    expect(page.locator("#pay-button")).to_have_count(0)
    expect(page.locator("#id_card_number")).to_have_count(0)
    expect(page.locator("#paypay-button")).to_have_count(0)
    expect(page.locator("[id*=applepay], apple-pay-button")).to_have_count(0)
    page.reload()
    expect(notice).to_contain_text(awaiting)
    expect(page.locator("#paypay-button")).to_have_count(0)
    page.context.close()
