"""English mode: every citizen-facing string in English, dates per
language, choices by their English labels, sentences spaced, and emails in
the language the citizen applied in (issue 9, item 26): the parts that go
through Kessai (payment, the payment request behind the emails); the rest is
in tests/shinsei/test_english.py."""

import re
from typing import Any

from django.core import mail
from django.test import Client

from tests.conftest import CARD_OK, staff_client
from tests.shinsei.test_english import JAPANESE, english
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application


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
