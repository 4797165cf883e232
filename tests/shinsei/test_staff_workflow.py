"""Staff decisions: 受理 (with an amount staff set), 却下, 差戻し and
resubmission, 処理完了, notes; each a conditional update with an event and
an email; the citizen's withdrawal."""

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application, ApplicationNote
from madoguchi.shinsei.procedures.models import Procedure
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import staff_client
from tests.support.journey import ANSWERS, accept, submit_application


def _subjects() -> list[str]:
    return [m.subject.split("】")[1] for m in mail.outbox]


def test_return_then_resubmission_keeps_the_form_version(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    # Given a submitted application
    application, _ = submit_application(citizen)
    version = application.form_version
    staff = staff_client(demo, "shimin")
    # When staff return it with a reason
    response = staff.post(
        f"/applications/{application.reference}/return", {"return-reason": "生年月日が違います。"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.reason) == ("returned", "生年月日が違います。")
    # and the procedure's form changes meanwhile
    procedure = application.procedure
    procedure.form_fields = [*procedure.form_fields, {"name": "x", "label": "新", "type": "text"}]
    procedure.save()
    # Then the citizen sees the reason and corrects the answers
    page = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "生年月日が違います。" in page
    response = citizen.post(f"/applications/{application.reference}/correct")
    assert response["Location"] == "/procedures/juminhyo/check"
    check = citizen.get("/procedures/juminhyo/check").content.decode()
    assert "修正した内容で再申請する" in check
    assert "新" not in check  # still the version it was filed under
    citizen.post("/procedures/juminhyo/steps/1?change=1", {**ANSWERS, "birth_date": "1991-05-02"})
    response = citizen.post("/procedures/juminhyo/check")
    assert response["Location"] == f"/applications/{application.reference}/"
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.answers["birth_date"] == "1991-05-02"
    assert application.form_version == version
    assert application.resubmitted_at is not None
    assert list(application.events.values_list("type", flat=True)) == [
        "submitted",
        "returned",
        "resubmitted",
    ]
    run_tasks()
    assert _subjects() == ["申請を受け付けました", "申請が差し戻されました", "申請を受け付けました"]
    assert "生年月日が違います。" in mail.outbox[1].body


def test_reject_needs_a_reason_and_reaches_the_citizen(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    empty = staff.post(f"/applications/{application.reference}/reject", {"reject-reason": ""})
    assert empty.status_code == 400
    assert "理由を入力してください。" in empty.content.decode()
    application.refresh_from_db()
    assert application.status == "submitted"
    staff.post(f"/applications/{application.reference}/reject", {"reject-reason": "対象外です。"})
    application.refresh_from_db()
    assert (application.status, application.reason) == ("rejected", "対象外です。")
    run_tasks()
    assert _subjects() == ["申請を受け付けました", "申請が却下されました"]
    # A rejected application cannot be accepted afterwards.
    accept(staff, application)
    application.refresh_from_db()
    assert application.status == "rejected"


def test_complete_only_after_payment(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, application)
    run_tasks()
    staff.post(f"/applications/{application.reference}/complete")
    application.refresh_from_db()
    assert application.status == "accepted"  # unpaid: refused
    Application.objects.filter(pk=application.pk).update(payment_status="paid")
    staff.post(f"/applications/{application.reference}/complete")
    application.refresh_from_db()
    assert application.status == "completed"
    run_tasks()
    assert _subjects()[-1] == "申請の処理が完了しました"


def test_notes_are_internal(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    staff.post(f"/applications/{application.reference}/notes", {"body": "電話で確認済み"})
    assert [n.body for n in ApplicationNote.objects.all()] == ["電話で確認済み"]
    assert "電話で確認済み" in staff.get(f"/applications/{application.reference}/").content.decode()
    assert (
        "電話で確認済み"
        not in citizen.get(f"/applications/{application.reference}/").content.decode()
    )


def test_withdrawal_before_acceptance_only(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    first, _ = submit_application(citizen)
    confirm = citizen.get(f"/applications/{first.reference}/withdraw")
    assert "申請を取り下げますか" in confirm.content.decode()
    citizen.post(f"/applications/{first.reference}/withdraw")
    first.refresh_from_db()
    assert first.status == "withdrawn"
    staff = staff_client(demo, "shimin")
    accept(staff, first)
    first.refresh_from_db()
    assert first.status == "withdrawn"  # staff cannot accept a withdrawn one

    second, _ = submit_application(citizen)
    accept(staff, second)
    response = citizen.post(f"/applications/{second.reference}/withdraw")
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == "accepted"
    assert "取り下げできません" in citizen.get(response["Location"]).content.decode()


def test_a_stranger_cannot_withdraw(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    stranger = Client(HTTP_HOST="shinsei.test")
    assert stranger.post(f"/applications/{application.reference}/withdraw").status_code == 404
    application.refresh_from_db()
    assert application.status == "submitted"


def test_status_changes_are_conditional_updates(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    staff = StaffAccount.objects.get(login_id="staff-shimin")
    stale = Application.objects.get(pk=application.pk)
    services.application_return(application=application, staff=staff, reason="不足")
    # Another tab still shows "submitted": its accept changes nothing.
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(services.InvalidTransition),
    ):
        services.application_accept(application=stale, staff=staff)
    assert any(
        q["sql"].startswith("UPDATE") and '"status" IN (' in q["sql"].split("WHERE")[1]
        for q in queries.captured_queries
    )
    application.refresh_from_db()
    assert application.status == "returned"


def test_a_returned_application_can_be_corrected_after_publication_ends(
    demo: dict[str, Any], citizen: Client
) -> None:
    application, _ = submit_application(citizen)
    staff = StaffAccount.objects.get(login_id="staff-shimin")
    services.application_return(application=application, staff=staff, reason="通数を確認")
    Procedure.objects.filter(slug="juminhyo").update(is_published=False)
    # New applications are refused ...
    assert Client(HTTP_HOST="shinsei.test").post("/procedures/juminhyo/").status_code == 404
    # ... but the returned one is corrected and resubmitted.
    citizen.post(f"/applications/{application.reference}/correct")
    citizen.post("/procedures/juminhyo/steps/2?change=1", {**ANSWERS, "copies": "3"})
    response = citizen.post("/procedures/juminhyo/check")
    assert response["Location"] == f"/applications/{application.reference}/"
    application.refresh_from_db()
    assert (application.status, application.answers["copies"], application.fee_amount) == (
        "submitted",
        3,
        900,
    )
