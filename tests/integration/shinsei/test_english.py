"""English mode: every citizen-facing string in English, dates per
language, choices by their English labels, sentences spaced, and emails in
the language the citizen applied in (issue 9, item 26)."""

import re
from typing import Any

from django.core import mail
from django.test import Client

from madoguchi.shinsei.applications.language import COOKIE
from tests.conftest import CARD_OK, staff_client
from tests.support.forms import ALL_TYPES, STEP1, STEP2, STEP3, receipt
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application

# Kana and kanji (and full-width punctuation) in what is shown, not typed.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff「」、。（）：]")


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", html, flags=re.S))


def english(client: Client) -> Client:
    client.cookies[COOKIE] = "en"
    return client


def test_check_page_shows_choices_and_files_in_english(
    demo: dict[str, Any], citizen: Client
) -> None:
    english(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/")
    step1 = citizen.get(f"/procedures/{ALL_TYPES}/steps/1").content.decode()
    assert '<option value="神奈川県">Kanagawa</option>' in step1  # the value stays
    citizen.post(f"/procedures/{ALL_TYPES}/steps/1", STEP1)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/2", STEP2)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/3", STEP3)
    refused = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt("a.exe")})
    assert not JAPANESE.search(re.sub(r"<title>.*?</title>", "", _error_summary(refused)))
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt()})
    check = citizen.get(f"/procedures/{ALL_TYPES}/check").content.decode()
    assert re.search(r'data-testid="answer-service">Other<', check)
    assert re.search(r'data-testid="answer-days">Monday, Wednesday<', check)
    assert re.search(r'data-testid="answer-receipt">receipt\.pdf \(1 KB\)<', check)
    assert "（" not in _text(check).replace("（未入力）", "")


def _error_summary(response: Any) -> str:
    html = str(response.content.decode())
    start = html.index('id="error-summary"')
    return html[start : html.index("</div>", start)]


def test_status_page_dates_and_sentences_in_english(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    english(citizen)
    application, _ = submit_application(citizen)
    submitted_page = citizen.get(f"/applications/{application.reference}/")
    assert submitted_page.status_code == 200
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    due = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert application.payment_due_at is not None
    assert f"{application.payment_due_at:%B}" in due  # e.g. "15 December 2026"
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    run_tasks()
    paid = citizen.get(f"/applications/{application.reference}/").content.decode()
    shown = re.search(r'data-testid="paid-at">([^<]*)<', paid)
    assert shown
    assert not JAPANESE.search(shown.group(1))
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}", shown.group(1))


def test_sentences_are_spaced_in_english(demo: dict[str, Any], citizen: Client) -> None:
    english(citizen)
    from tests.support.journey import ANSWERS, fill_in

    fill_in(citizen, "juminhyo", ANSWERS)
    citizen.post("/procedures/juminhyo/check")
    page = _text(citizen.get("/submitted").content.decode())
    assert not re.search(r"[a-z][.,][A-Z]", page)  # "application.They" run together


def test_emails_follow_the_citizens_language(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    english(citizen)
    application, _ = submit_application(citizen)
    assert application.language == "en"
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    subjects = [str(m.subject).split("】")[1] for m in mail.outbox]
    assert subjects == ["Application sent", "Application accepted"]
    accepted = mail.outbox[1].body
    assert "Please pay the fee of ¥600 on this page:" in accepted
    assert f"/applications/{application.reference}/payment?lang=en" in accepted
    body_lines = [line for line in accepted.splitlines()[1:] if line.strip()]
    # Only the procedure's and department's names (data) stay Japanese.
    assert [line for line in body_lines if JAPANESE.search(line)] == [
        "Replies to this email are not read. For questions, contact 市民課."
    ]


def test_japanese_emails_unchanged(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> None:
    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    accepted = mail.outbox[1]
    assert accepted.subject.endswith("申請を受理しました")
    assert "整理番号：" in accepted.body
    assert "手数料 600円 を、次のページからお支払いください。" in accepted.body
    assert re.search(r"お支払い期限：\d{4}年\d{1,2}月\d{1,2}日", str(accepted.body))
