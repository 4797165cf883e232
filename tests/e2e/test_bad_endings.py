"""Journeys that end badly, in a real browser against the real processes
(issue 9, items 19-24): Back after a decline and a success never meets a
form resubmission; an abandoned 3-D Secure challenge can be left; the
citizen's language follows them onto the payment page; unknown pages are
styled, in both languages, with a way back; errors take the focus; success
and neutral messages are not dressed as errors. Playwright's ``expect``
retries until the page shows what is asserted: no sleeps.

Named to run before test_card_journey.py, which stops the shared system."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import reload_until
from tests.e2e.test_3ds_and_wallets import CARD_3DS, CARD_OK, fill_card, new_payment
from tests.e2e.test_accessible_journeys import _submit_juminhyo, check_axe, new_page, staff_login

pytestmark = pytest.mark.e2e

CARD_DECLINED = "4000000000000002"
PAY_PAGE = re.compile(r".*/pay/pay_\w+/$")
# A status page opened in a browser that never proved the password.
OTHER_BROWSER_STATUS = "/applications/100000000001/?lang=en"

DESCRIBED_BY_MISSING = """() => [...document.querySelectorAll('[aria-describedby]')]
    .flatMap(e => e.getAttribute('aria-describedby').split(/\\s+/))
    .filter(id => !document.getElementById(id))"""


def open_payment(system: dict[str, Any], browser: Any) -> Any:
    """A phone-sized page on a fresh payment's page."""
    page = new_page(browser)
    page.goto(new_payment(system))
    expect(page).to_have_url(PAY_PAGE)
    return page


def test_back_after_a_decline_and_a_success_never_resubmits(
    system: dict[str, Any], browser: Any
) -> None:
    page = open_payment(system, browser)

    # An invalid form: the summary takes the focus, names each field once.
    page.locator("#pay-button").click()
    expect(page).to_have_url(PAY_PAGE)  # POST/redirect/GET
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="カード番号を入力してください。")).to_be_visible()
    expect(summary).not_to_contain_text("カード番号：")
    missing = page.evaluate(DESCRIBED_BY_MISSING)  # the expect()s above saw the page
    assert missing == []
    check_axe(page, citizen_page=False)

    # A decline: the banner takes the focus; the page is a GET page.
    fill_card(page, CARD_DECLINED)
    expect(page).to_have_url(PAY_PAGE)
    banner = page.locator("#payment-error")
    expect(banner).to_be_focused()
    expect(banner).to_contain_text("カードが承認されませんでした")
    missing = page.evaluate(DESCRIBED_BY_MISSING)
    assert missing == []
    check_axe(page, citizen_page=False)

    # Then a success, then Back: the payment page again, saying it is paid.
    fill_card(page, CARD_OK)
    expect(page.get_by_role("heading", name="お支払いが完了しました")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(PAY_PAGE)
    expect(page.locator(".notice-success")).to_contain_text("このお支払いは完了しています")
    page.go_back()
    expect(page).to_have_url(PAY_PAGE)
    expect(page.locator("body")).not_to_contain_text("ERR_CACHE_MISS")
    expect(page.locator(".notice-success")).to_contain_text("このお支払いは完了しています")
    page.context.close()


def test_an_abandoned_challenge_can_be_left(system: dict[str, Any], browser: Any) -> None:
    page = open_payment(system, browser)
    pay_url = page.url
    fill_card(page, CARD_3DS)
    # SBPS's 3-D Secure page, where the card form leads straight.
    expect(page.locator("#otp")).to_be_visible()
    # The citizen closes the issuer's page and opens the payment page again.
    page.goto(pay_url)
    expect(page.locator(".notice-info")).to_contain_text("本人認証（3-Dセキュア）の途中です")
    expect(page.locator("#challenge-continue")).to_be_visible()
    expect(page.locator("#back-link")).to_have_attribute("href", re.compile(r"/back$"))
    check_axe(page, citizen_page=False)
    page.locator("#challenge-cancel").click()
    info = page.locator("#payment-info")
    expect(info).to_be_focused()
    expect(info).to_contain_text("本人認証（3-Dセキュア）を中止しました")
    expect(page.locator(".notice-error")).to_have_count(0)
    expect(page.locator("#paypay-button")).to_be_visible()  # another method
    check_axe(page, citizen_page=False)
    fill_card(page, CARD_OK)
    expect(page.get_by_role("heading", name="お支払いが完了しました")).to_be_visible()
    page.context.close()


def test_paypay_waiting_and_cancel_are_neutral(system: dict[str, Any], browser: Any) -> None:
    page = open_payment(system, browser)
    pay_url = page.url
    page.locator("#paypay-button").click()
    expect(page.locator("#paypay-qr svg")).to_be_visible()
    page.goto(pay_url)
    expect(page.locator(".notice-info")).to_contain_text("PayPayでのお支払いの途中です")
    page.locator("#paypay-cancel").click()
    expect(page.locator("#payment-info")).to_contain_text("PayPayでのお支払いを中止しました")
    expect(page.locator("body")).not_to_contain_text("お支払いできませんでした")
    check_axe(page, citizen_page=False)
    page.context.close()


def test_the_citizens_language_follows_them_to_the_payment_page(
    system: dict[str, Any], browser: Any
) -> None:
    base = system["urls"]["shinsei_public"]
    citizen = new_page(browser)
    reference = _submit_juminhyo(citizen, base)
    staff = staff_login(browser, system, "staff-shimin")
    staff.goto(system["urls"]["shinsei_staff"] + f"/applications/{reference}/")
    staff.locator("#accept-button").click()
    expect(staff.locator(".notice-success")).to_contain_text("受理しました。")
    expect(staff.locator(".notice-error")).to_have_count(0)
    check_axe(staff, citizen_page=False)

    citizen.goto(base + f"/applications/{reference}/?lang=en")
    expect(citizen.locator("html")).to_have_attribute("lang", "en")
    pay = citizen.locator("#pay-button")
    reload_until(citizen, pay)  # the worker creates the payment on Kessai
    pay.click()
    expect(citizen).to_have_url(PAY_PAGE)
    expect(citizen.locator("html")).to_have_attribute("lang", "en")
    expect(citizen.locator("#pay-button")).to_have_text("Pay ¥300")
    check_axe(citizen, citizen_page=False)
    citizen.context.close()
    staff.context.close()


@pytest.mark.parametrize(
    ("service", "path", "lang", "heading", "way_back"),
    [
        ("shinsei_public", "/no/such/page", "ja", "ページが見つかりません", "#error-home"),
        ("shinsei_public", OTHER_BROWSER_STATUS, "en", "Page not found", "#error-inquiry"),
        ("kessai_public", "/pay/pay_nope/", "ja", "ページが見つかりません", None),
        ("kessai_public", "/pay/pay_nope/?lang=en", "en", "Page not found", None),
        ("shinsei_staff", "/no/such/page", "ja", "ページが見つかりません", "#error-home"),
    ],
)  # fmt: skip
def test_unknown_pages_are_styled_with_a_way_back(
    system: dict[str, Any],
    browser: Any,
    service: str,
    path: str,
    lang: str,
    heading: str,
    way_back: str | None,
) -> None:
    page = new_page(browser)
    response = page.goto(system["urls"][service] + path)
    assert response is not None
    assert response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("body")).not_to_contain_text("Not Found")
    check_axe(page, citizen_page=False)
    if way_back is not None:
        page.locator(way_back).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("heading", level=1)).not_to_have_text(heading)
    page.context.close()
