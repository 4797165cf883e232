"""Payment methods in a real browser against the real processes: EMV 3-D
Secure challenge passed and failed (with JavaScript turned off), PayPay
approved, cancelled and expired (the page polls with its own script).

The file name sorts before test_card_journey.py on purpose: that test ends by
stopping the shared system to scan its files.
"""

import json
import secrets
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CARD_3DS = "4000000000003220"
CARD_OK = "4242424242424242"


def new_payment(system: dict[str, Any], amount: int = 800) -> str:
    """Ask Kessai for a payment as a merchant would; return its checkout link."""
    body = json.dumps(
        {
            "reference": "E2E-" + secrets.token_hex(6),
            "amount": amount,
            "return_url": system["urls"]["shinsei_public"] + "/",
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - our own local listener
        system["urls"]["kessai_public"] + "/api/v1/payments",
        data=body,
        headers={
            "Authorization": f"Bearer {system['merchants']['mayor']['api_key']}",
            "Idempotency-Key": secrets.token_hex(8),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.load(response)["next_url"])


def paypay_control(system: dict[str, Any], **body: Any) -> None:
    request = urllib.request.Request(  # noqa: S310
        system["urls"]["paypay_simulator"] + "/_sim/paypay/control",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310


def fill_card(page: Any, number: str) -> None:
    page.get_by_label("カード番号").fill(number)
    page.get_by_label("月", exact=True).select_option("12")
    page.get_by_label("年", exact=True).select_option(str(date.today().year + 3))
    page.get_by_label("セキュリティコード").fill("123")
    page.locator("#pay-button").click()


def challenge(page: Any, right_code: bool) -> None:
    """The issuer's one-time code: SBPS's 3-D Secure page, where the card
    form leads straight (Kessai's own page links to the acquirer sandbox's)."""
    page.wait_for_selector("#otp, #challenge-link")
    if page.locator("#challenge-link").count():
        page.locator("#challenge-link").click()
    page.wait_for_selector("#otp")
    code = page.locator("#otp").inner_text()
    page.get_by_label("ワンタイムパスワード").fill(code if right_code else "000000")
    page.get_by_role("button", name="認証する").click()


def test_3ds_challenge_passed_and_failed_without_javascript(
    system: dict[str, Any], browser: Any
) -> None:
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()

    page.goto(new_payment(system))
    fill_card(page, CARD_3DS)
    expect(page.locator("body")).to_contain_text("本人認証（3-Dセキュア）")
    challenge(page, right_code=True)
    page.wait_for_selector("text=お支払いが完了しました")

    page.goto(new_payment(system))
    fill_card(page, CARD_3DS)
    challenge(page, right_code=False)
    page.wait_for_selector("text=本人認証（3-Dセキュア）に失敗しました")
    fill_card(page, CARD_OK)  # the same payment, another card
    page.wait_for_selector("text=お支払いが完了しました")
    context.close()


def test_paypay_approved_in_the_app_while_the_page_polls(
    system: dict[str, Any], browser: Any
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(new_payment(system))
    page.locator("#paypay-button").click()
    page.wait_for_selector("#paypay-qr svg")
    app_url = page.locator("#paypay-link").get_attribute("href")
    # The phone (a second browser) scans the code and approves in the app.
    phone = browser.new_context(locale="ja-JP").new_page()
    phone.goto(app_url)
    phone.get_by_role("button", name="支払う").click()
    # The desktop page notices by itself (polling) and moves on.
    page.wait_for_selector("text=お支払いが完了しました", timeout=15000)
    context.close()


def test_paypay_cancelled_then_expired(system: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(new_payment(system))
    page.locator("#paypay-button").click()
    page.locator("#paypay-cancel").click()
    page.wait_for_selector("text=PayPayでのお支払いを中止しました")

    page.locator("#paypay-button").click()
    page.wait_for_selector("#paypay-qr svg")
    paypay_control(system, expire_all=True)
    page.wait_for_selector("text=有効期限が切れました", timeout=15000)
    context.close()


def test_apple_pay_through_the_simulator_in_demo_mode(system: dict[str, Any], browser: Any) -> None:
    # Chromium has no ApplePaySession: the real button stays hidden and the
    # demo link leads to the simulator's payment sheet.
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(new_payment(system, amount=1500))
    expect(page.locator("#applepay")).to_be_hidden()
    page.locator("#applepay-demo").click()
    page.wait_for_selector("text=1,500円")
    page.locator("#applepay-authorize").click()
    page.wait_for_selector("text=お支払いが完了しました")
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core as shipped inside the pinned axe-playwright-python package."""
    import axe_playwright_python  # type: ignore[import-untyped]

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def assert_accessible(page: Any, axe: str) -> None:
    page.add_script_tag(content=axe)
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
    result = page.evaluate("tags => axe.run(document, {runOnly: tags})", tags)
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == [], f"{page.url}: {violations}"


def test_hosted_pages_have_no_axe_violations(
    system: dict[str, Any], browser: Any, axe_source: str
) -> None:
    # bypass_csp lets the test inject axe; the pages themselves are unchanged.
    context = browser.new_context(locale="ja-JP", bypass_csp=True)
    page = context.new_page()
    page.goto(new_payment(system))
    pay_url = page.url
    assert_accessible(page, axe_source)  # the card page
    page.locator("#pay-button").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page, axe_source)  # with the error summary
    page.goto(pay_url + "?lang=en")
    assert_accessible(page, axe_source)  # in English
    page.goto(pay_url + "?lang=ja")
    fill_card(page, CARD_3DS)
    expect(page.get_by_role("heading", name="本人認証（3-Dセキュア）")).to_be_visible()
    assert_accessible(page, axe_source)  # the issuer's challenge
    page.goto(new_payment(system))
    page.locator("#paypay-button").click()
    page.wait_for_selector("#paypay-qr svg")
    assert_accessible(page, axe_source)  # the PayPay QR page
    page.locator("#paypay-cancel").click()
    fill_card(page, CARD_OK)
    page.wait_for_selector("text=お支払いが完了しました")
    assert_accessible(page, axe_source)  # payment complete
    context.close()
