"""Staff and citizen screens say what happened in plain words and style it
for what it is (issue 9, items 24 and 28)."""

import re
from typing import Any

from django.test import Client

from tests.conftest import staff_client
from tests.support.journey import accept, submit_application


def test_acceptance_is_a_success_banner_and_history_is_plain_japanese(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, application)
    page = staff.get(f"/applications/{application.reference}/").content.decode()
    assert re.search(r'class="notice notice-success" role="status"[^>]*><p>受理しました。', page)
    events = re.findall(r'<li data-testid="event">([^<]*)</li>', page)
    assert [e.split("　", 1)[1] for e in events] == [
        "申請（申請者）",
        "受理（市民課 担当者）",
    ]
    assert "submitted" not in page
    assert "staff:" not in page
    # A refusal is an error banner.
    again = staff.post(f"/applications/{application.reference}/accept")
    refused = staff.get(again["Location"]).content.decode()
    assert 'class="notice notice-error" role="alert"' in refused


def test_header_names_the_account_once_and_is_as_wide_as_the_content(
    demo: dict[str, Any],
) -> None:
    page = staff_client(demo, "shimin").get("/").content.decode()
    header = page[page.index("<header") : page.index("</header>")]
    assert "（担当者（" not in header
    assert header.count("担当者") == 2  # the name, and the role once
    assert 'class="container header-inner wide"' in header
    assert 'class="container wide"' in page


def test_citizen_banners_match_what_happened(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    done = citizen.post(f"/applications/{application.reference}/withdraw")
    page = citizen.get(done["Location"]).content.decode()
    assert re.search(r'class="notice notice-success"[^>]*><p>申請を取り下げました。', page)
    again = citizen.post(f"/applications/{application.reference}/withdraw")
    page = citizen.get(again["Location"]).content.decode()
    assert 'class="notice notice-error" role="alert"' in page
