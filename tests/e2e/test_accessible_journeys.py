"""Citizen journeys in a real browser against the real processes: every
question type completed with the keyboard alone, a draft saved and resumed,
差戻し then resubmission, withdrawal; axe-core (WCAG 2.2 AA rules) finds no
violation on any citizen page on the way.

Named to run before test_card_journey.py, which stops the shared system."""

import email
import email.policy
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Pages checked by axe, by path pattern: every citizen page must appear.
CHECKED: set[str] = set()


def check_axe(page: Any, *, citizen_page: bool = True) -> None:
    """Zero violations of the WCAG 2.x A/AA rules on the page as shown."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = results.response["violations"]
    summary = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert violations == [], f"{page.url}: {summary}"
    if not citizen_page:
        return
    path = page.url.split("//", 1)[1].split("/", 1)[1].split("#")[0].split("?")[0]
    CHECKED.add(re.sub(r"\d{6,}|[A-Za-z0-9_-]{30,}", "*", path))


def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element is focused; every stop must show focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """(s) => {
                const e = document.activeElement;
                if (!e || e === document.body) return null;
                const style = getComputedStyle(e);
                return {match: e.matches(s), visible: style.outlineStyle !== 'none'
                        || style.boxShadow !== 'none', id: e.id || e.tagName};
            }""",
            selector,
        )
        if focused is None:
            continue
        assert focused["visible"], f"no visible focus on {focused['id']}"
        if focused["match"]:
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def press_on(page: Any, selector: str, key: str = "Enter") -> None:
    """Focus a link or button with Tab and press it; a new page loads."""
    tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press(key)


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def new_page(browser: Any, *, width: int = 390) -> Any:
    # A phone-sized window; axe injects its script, which the strict CSP
    # would block, so CSP is bypassed in these contexts only.
    context = browser.new_context(
        locale="ja-JP", viewport={"width": width, "height": 844}, bypass_csp=True
    )
    return context.new_page()


def wait_for_mail(folder: Path, reference: str) -> str:
    """The subject of the first email under var/mail that names the reference."""
    for _ in range(60):
        for path in sorted(folder.glob("*.log")) if folder.exists() else []:
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                message = email.message_from_bytes(raw.strip(), policy=email.policy.default)
                if not message["Subject"]:
                    continue
                body = message.get_body()
                if body is not None and reference in body.get_content():
                    return str(message["Subject"])
        time.sleep(0.5)
    raise AssertionError(f"no email for {reference} in {folder}")


def staff_login(browser: Any, system: dict[str, Any], login_id: str) -> Any:
    account = next(a for a in system["accounts"]["shinsei_staff"] if a["login_id"] == login_id)
    staff = browser.new_context(locale="ja-JP", bypass_csp=True).new_page()
    staff.goto(system["urls"]["shinsei_staff"] + "/login")
    staff.get_by_label("ログインID").fill(account["login_id"])
    staff.get_by_label("パスワード").fill(account["password"])
    staff.get_by_role("button", name="ログイン").click()
    expect(staff.get_by_test_id("account-name")).to_be_visible()  # logged in before moving on
    return staff


def test_every_question_type_with_the_keyboard_alone(
    system: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    base = system["urls"]["shinsei_public"]
    page = new_page(browser)
    page.goto(base + "/")
    check_axe(page)
    press_on(page, 'a[href="/procedures/kosodate-hojokin/"]')
    check_axe(page)
    press_on(page, "#start-button")

    # Step 1, sent empty first: the error summary takes focus and links to each field.
    press_on(page, "button[name=continue]")
    expect(page.locator("#error-summary")).to_be_focused()
    summary = page.locator("#error-summary a")
    expect(summary.first).to_have_text("氏名を入力してください。")
    expect(summary.first).to_have_attribute("href", "#id_name")
    check_axe(page)
    type_into(page, "#id_name", "藤沢 花子")
    type_into(page, "#id_email", "hanako@example.jp")
    type_into(page, "#id_phone", "0466-25-1111")
    type_into(page, "#id_address__postal_code", "251-8601")
    tab_to(page, "#id_address__prefecture")
    for _ in range(14):  # 北海道 … 神奈川県
        page.keyboard.press("ArrowDown")
    type_into(page, "#id_address__line", "藤沢市朝日町1番地の1")
    press_on(page, "button[name=continue]")

    # Step 2: number, date, radio, checkboxes, postal code, long text.
    expect(page.get_by_role("heading", level=1)).to_have_text("利用の内容")
    type_into(page, "#id_children", "二")  # wrong first
    type_into(page, "#id_start_date", "2026-04-01")
    tab_to(page, "#id_service_0")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # その他
    tab_to(page, "#id_days_0")
    page.keyboard.press("Space")
    tab_to(page, "#id_days_2")
    page.keyboard.press("Space")
    type_into(page, "#id_provider_postal", "2510052")
    type_into(page, "#id_reason", "仕事のため")
    press_on(page, "button[name=continue]")
    expect(page.locator("body")).to_contain_text("お子さんの人数は半角数字で入力してください。")
    # Everything else typed is still there.
    expect(page.locator("#id_start_date")).to_have_value("2026-04-01")
    expect(page.locator("#id_service_2")).to_be_checked()
    expect(page.locator("#id_days_2")).to_be_checked()
    expect(page.locator("#id_reason")).to_have_value("仕事のため")
    check_axe(page)
    type_into(page, "#id_children", "2")
    press_on(page, "button[name=continue]")

    # Step 3 appears because その他 was chosen.
    expect(page.get_by_role("heading", level=1)).to_have_text("サービスの詳細")
    check_axe(page)
    type_into(page, "#id_service_other", "病児保育")
    press_on(page, "button[name=continue]")

    # Step 4: a file; a disallowed one first.
    (tmp_path / "note.txt").write_text("not allowed")
    (tmp_path / "receipt.pdf").write_bytes(PDF)
    for name in ("note.txt", "receipt.pdf"):
        tab_to(page, "#id_receipt")
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Space")
        chooser.value.set_files(str(tmp_path / name))
        press_on(page, "button[name=continue]")
        if name == "note.txt":
            expect(page.locator("body")).to_contain_text(
                "利用料の領収書は PDF・JPG・PNG 形式のファイルを選択してください。"
            )
            check_axe(page)

    # Check your answers, change one, then submit.
    expect(page.get_by_role("heading", level=1)).to_have_text("入力内容の確認")
    check_axe(page)
    expect(page.get_by_test_id("answer-address")).to_have_text(
        "〒251-8601 神奈川県藤沢市朝日町1番地の1"
    )
    expect(page.get_by_test_id("answer-days")).to_have_text("月、水")
    expect(page.get_by_test_id("answer-receipt")).to_have_text(
        re.compile("^" + re.escape("receipt.pdf"))
    )
    press_on(page, 'a[href$="steps/2?change=1#id_children"]')
    type_into(page, "#id_children", "3")
    press_on(page, "button[name=continue]")
    expect(page.get_by_test_id("answer-children")).to_have_text("3")
    press_on(page, "#submit-application")

    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    reference = page.get_by_test_id("reference").inner_text()
    assert re.fullmatch(r"\d{12}", reference)
    check_axe(page)
    # The worker sends the "submitted" email through the file backend.
    assert wait_for_mail(system["var"] / "mail", reference).startswith("【子育て支援")
    press_on(page, 'a[href$="/"].button')
    expect(page.get_by_test_id("status")).to_have_text("審査待ち")
    check_axe(page)


def _submit_juminhyo(page: Any, base: str) -> str:
    page.goto(base + "/procedures/juminhyo/")
    page.get_by_role("button", name="申請を始める").click()
    _fill_step1(page)
    page.get_by_role("button", name="次へ進む").click()
    page.get_by_label("通数").fill("1")
    page.get_by_label("使用目的").select_option("年金")
    page.get_by_role("button", name="次へ進む").click()
    page.get_by_role("button", name="この内容で申請する").click()
    return str(page.get_by_test_id("reference").inner_text())


def _fill_step1(page: Any) -> None:
    page.locator("#id_name").fill("辻堂 太郎")
    page.get_by_label("氏名（フリガナ）").fill("ツジドウ タロウ")
    page.get_by_label("生年月日").fill("1980-01-02")
    page.get_by_label("住所（郵便番号）").fill("251-0047")
    page.get_by_label("住所（都道府県）").select_option("神奈川県")
    page.get_by_label("住所（市区町村・番地）").fill("藤沢市辻堂1-2-3")
    page.get_by_label("電話番号").fill("0466-00-0000")


def test_draft_saved_and_resumed(system: dict[str, Any], browser: Any) -> None:
    base = system["urls"]["shinsei_public"]
    page = new_page(browser)
    page.goto(base + "/procedures/juminhyo/")
    page.get_by_role("button", name="申請を始める").click()
    check_axe(page)
    _fill_step1(page)
    page.get_by_role("button", name="一時保存する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("一時保存しました")
    check_axe(page)
    link = page.get_by_test_id("draft-link").inner_text()
    page.context.close()

    later = new_page(browser, width=1280)  # another device, later
    later.goto(link)
    expect(later.get_by_role("heading", level=1)).to_have_text("請求の内容")
    later.get_by_label("通数").fill("3")
    later.get_by_label("使用目的").select_option("就職")
    later.get_by_role("button", name="次へ進む").click()
    expect(later.get_by_test_id("answer-name")).to_have_text("辻堂 太郎")
    expect(later.get_by_test_id("fee")).to_have_text("900円")
    later.get_by_role("button", name="この内容で申請する").click()
    expect(later.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    later.goto(link)  # used up
    expect(later.get_by_role("heading", level=1)).to_have_text("保存された入力内容が見つかりません")
    check_axe(later)


def test_return_then_resubmission(system: dict[str, Any], browser: Any) -> None:
    base = system["urls"]["shinsei_public"]
    citizen = new_page(browser)
    reference = _submit_juminhyo(citizen, base)
    staff = staff_login(browser, system, "staff-shimin")
    check_axe(staff, citizen_page=False)  # the staff inbox, too
    staff.get_by_role("link", name=reference).click()
    check_axe(staff, citizen_page=False)
    staff.get_by_label("理由").first.fill("生年月日をご確認ください。")
    staff.locator("#return-button").click()
    expect(staff.get_by_test_id("status")).to_have_text("差戻し")

    citizen.goto(base + f"/applications/{reference}/")
    expect(citizen.get_by_test_id("status")).to_have_text("差戻し")
    expect(citizen.get_by_test_id("reason")).to_have_text("生年月日をご確認ください。")
    check_axe(citizen)
    citizen.locator("#correct-button").click()
    check_axe(citizen)
    citizen.locator('a[href$="steps/1?change=1#id_birth_date"]').click()
    citizen.get_by_label("生年月日").fill("1980-02-01")
    citizen.get_by_role("button", name="確認画面に戻る").click()
    expect(citizen.get_by_test_id("answer-birth_date")).to_have_text("1980年2月1日")
    citizen.get_by_role("button", name="修正した内容で再申請する").click()
    expect(citizen.get_by_test_id("status")).to_have_text("審査待ち")
    expect(citizen.locator("body")).to_contain_text("修正した内容で再申請しました。")
    check_axe(citizen)
    staff.reload()
    expect(staff.get_by_test_id("status")).to_have_text("審査待ち")
    expect(staff.locator("body")).to_contain_text("1980年2月1日")


def test_withdrawal(system: dict[str, Any], browser: Any) -> None:
    base = system["urls"]["shinsei_public"]
    citizen = new_page(browser)
    reference = _submit_juminhyo(citizen, base)
    citizen.goto(base + f"/applications/{reference}/")
    citizen.locator("#withdraw-link").click()
    expect(citizen.get_by_role("heading", level=1)).to_have_text("申請を取り下げますか")
    check_axe(citizen)
    citizen.locator("#withdraw-confirm").click()
    expect(citizen.get_by_test_id("status")).to_have_text("取下げ")
    expect(citizen.locator("#withdraw-link")).to_have_count(0)
    check_axe(citizen)

    # The inquiry page, with a wrong password, is accessible too.
    other = new_page(browser)
    other.goto(base + "/inquiry")
    check_axe(other)
    other.get_by_label("整理番号").fill(reference)
    other.get_by_label("パスワード").fill("WRONG")
    other.get_by_role("button", name="確認する").click()
    expect(other.locator("body")).to_contain_text("整理番号またはパスワードが正しくありません。")
    check_axe(other)

    # English, chosen from the header, is accessible too.
    other.goto(base + "/procedures/juminhyo/")
    other.get_by_role("link", name="English").click()
    expect(other.locator("html")).to_have_attribute("lang", "en")
    expect(other.get_by_role("button", name="Start now")).to_be_visible()
    check_axe(other)
    other.get_by_role("button", name="Start now").click()
    other.get_by_role("button", name="Continue").click()
    expect(other.locator("body")).to_contain_text("Enter Full name.")
    check_axe(other)


def test_every_citizen_page_was_checked_by_axe() -> None:
    """Runs last in this file: the pages above cover every citizen view."""
    if not CHECKED:
        pytest.skip("the browser tests did not run")
    expected = {
        "", "procedures/*/", "procedures/*/steps/*", "procedures/*/check", "submitted",
        "applications/*/", "applications/*/withdraw", "drafts/saved", "drafts/*", "inquiry",
    }  # fmt: skip
    seen = {re.sub(r"procedures/[a-z-]+/", "procedures/*/", p) for p in CHECKED}
    seen = {re.sub(r"steps/\d+$", "steps/*", p) for p in seen}
    assert expected <= seen, sorted(expected - seen)
