"""English mode: every citizen-facing string in English, dates per
language, choices by their English labels, sentences spaced, and emails in
the language the citizen applied in (issue 9, item 26)."""

import re
from typing import Any

from django.test import Client

from madoguchi.shinsei.applications.language import COOKIE
from tests.support.forms import ALL_TYPES, STEP1, STEP2, STEP3, receipt

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


def test_sentences_are_spaced_in_english(demo: dict[str, Any], citizen: Client) -> None:
    english(citizen)
    from tests.support.journey import ANSWERS, fill_in

    fill_in(citizen, "juminhyo", ANSWERS)
    citizen.post("/procedures/juminhyo/check")
    page = _text(citizen.get("/submitted").content.decode())
    assert not re.search(r"[a-z][.,][A-Z]", page)  # "application.They" run together


def test_every_seeded_question_reads_in_english() -> None:
    from madoguchi.shinsei.procedures.demo import PROCEDURES

    missing = []
    for spec in PROCEDURES:
        for plain in spec["questions"]:
            q = {**plain, **spec.get("english", {}).get(plain["name"], {})}
            for key in ("label", "help", "step", "choices"):
                if q.get(key) and not q.get(f"{key}_en"):
                    missing.append(f"{spec['slug']}.{q['name']}.{key}_en")
    assert missing == []


def test_answers_read_in_english_with_their_japanese_values_kept(
    demo: dict[str, Any], citizen: Client
) -> None:
    english(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/")
    citizen.post(f"/procedures/{ALL_TYPES}/steps/1", STEP1)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/2", STEP2)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/3", STEP3)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt()})
    check = citizen.get(f"/procedures/{ALL_TYPES}/check").content.decode()
    address = re.search(r'data-testid="answer-address">([^<]*)<', check)
    assert address is not None
    assert "Kanagawa" in address.group(1)
    assert "神奈川県" not in address.group(1)
    assert re.search(r'data-testid="answer-start_date">1 April 2026<', check)
