"""Japanese by default; English when the citizen chooses it."""

from typing import Any

from django.test import Client

from madoguchi.shinsei.applications.language import COOKIE


def test_japanese_by_default_even_for_an_english_browser(
    demo: dict[str, Any], citizen: Client
) -> None:
    page = citizen.get("/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert '<html lang="ja">' in text
    assert "<h1>手続一覧</h1>" in text
    assert 'href="/language/en?next=/"' in text


def test_english_selected_for_pages_questions_and_errors(
    demo: dict[str, Any], citizen: Client
) -> None:
    switched = citizen.get("/language/en?next=/procedures/juminhyo/")
    assert switched["Location"] == "/procedures/juminhyo/"
    assert citizen.cookies[COOKIE].value == "en"
    start = citizen.get("/procedures/juminhyo/").content.decode()
    assert '<html lang="en">' in start
    assert "Start now" in start
    citizen.post("/procedures/juminhyo/")
    step = citizen.post("/procedures/juminhyo/steps/1", {"name": ""})
    text = step.content.decode()
    assert step.status_code == 400
    assert "<h1>About you</h1>" in text
    assert '<a href="#id_name">Enter Full name.</a>' in text
    assert "Enter Address (postcode)." in text
    assert "There is a problem" in text
    # Back to Japanese.
    citizen.get("/language/ja?next=/")
    assert "<h1>手続一覧</h1>" in citizen.get("/").content.decode()


def test_language_switch_never_redirects_off_site(demo: dict[str, Any], citizen: Client) -> None:
    response = citizen.get("/language/en?next=https://evil.example/")
    assert response["Location"] == "/"
    unknown = citizen.get("/language/xx?next=/")
    assert COOKIE not in unknown.cookies


def test_choices_shown_in_english_keep_their_japanese_values(
    demo: dict[str, Any], citizen: Client
) -> None:
    from madoguchi.shinsei.applications.models import Application
    from tests.support.forms import ALL_TYPES, STEP1, STEP2

    citizen.get("/language/en?next=/")
    citizen.post(f"/procedures/{ALL_TYPES}/")
    citizen.post(f"/procedures/{ALL_TYPES}/steps/1", STEP1)
    page = citizen.get(f"/procedures/{ALL_TYPES}/steps/2").content.decode()
    assert '<label for="id_service_0">Temporary childcare</label>' in page
    assert 'value="一時預かり"' in page
    citizen.post(f"/procedures/{ALL_TYPES}/steps/2", {**STEP2, "service": "送迎"})
    assert Application.objects.count() == 0
    check = citizen.get(f"/procedures/{ALL_TYPES}/steps/4")
    assert check.status_code == 200
    assert "<h1>Documents</h1>" in check.content.decode()


def test_lang_parameter_switches_and_is_remembered(demo: dict[str, Any], citizen: Client) -> None:
    english = citizen.get("/?lang=en")
    assert '<html lang="en">' in english.content.decode()
    assert citizen.cookies[COOKIE].value == "en"
    assert '<html lang="en">' in citizen.get("/inquiry").content.decode()
    assert '<html lang="ja">' in citizen.get("/inquiry?lang=ja").content.decode()
    assert '<html lang="ja">' in citizen.get("/").content.decode()
    assert '<html lang="ja">' in citizen.get("/?lang=xx").content.decode()
