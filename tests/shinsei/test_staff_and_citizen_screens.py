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


def test_refund_history_and_the_access_export_read_in_words_not_codes(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    import io
    import zipfile

    from madoguchi.shinsei.applications.models import ApplicationEvent
    from madoguchi.shinsei.privacy.access import access_export
    from madoguchi.shinsei.staff.models import StaffAccount

    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, application)
    for kind, detail in [
        ("refund_requested", {"amount": 200, "reason": "overpaid"}),
        ("refund_failed", {"amount": 200, "code": "payment_not_refundable"}),
    ]:
        ApplicationEvent.objects.create(
            application=application, type=kind, actor="kessai", detail=detail
        )
    page = staff.get(f"/applications/{application.reference}/").content.decode()
    events = [
        e.split("　", 1)[1] for e in re.findall(r'<li data-testid="event">([^<]*)</li>', page)
    ]
    assert events[-2:] == [
        "返金の申請（オンライン決済システム）：200円、過誤納（金額の誤り）",
        "返金の失敗（オンライン決済システム）：200円、返金できない決済でした",
    ]
    for code in ("overpaid", "payment_not_refundable", "記録（"):
        assert code not in page
    officer = StaffAccount.objects.get(login_id="admin-mayor")
    archive = access_export(staff=officer, applications=[application], criteria="test")
    summary = zipfile.ZipFile(io.BytesIO(archive)).read("summary.txt").decode()
    assert re.search(r"\d日 \d\d:\d\d 受理\n", summary)
    for code in (" submitted", " accepted", " refund_requested", "overpaid"):
        assert code not in summary
    assert "返金の申請：200円、過誤納（金額の誤り）" in summary
