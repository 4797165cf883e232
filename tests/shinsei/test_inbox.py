"""The staff inbox: filters, search by 整理番号, overdue marks, CSV export
(UTF-8 with BOM), and the audit record of every view and export."""

import csv
import io
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import staff_client
from tests.support.journey import accept, submit_application


def _refs(client: Client, query: str) -> set[str]:
    page = client.get("/?" + query).context["page"]
    return {a.reference for a in page.object_list}


def test_filters_and_search(demo: dict[str, Any], citizen: Client) -> None:
    a, _ = submit_application(citizen)
    b, _ = submit_application(citizen)
    c, _ = submit_application(citizen, "inkan")
    staff = staff_client(demo, "shimin")
    accept(staff, b)
    Application.objects.filter(pk=c.pk).update(submitted_at=timezone.now() - timedelta(days=10))
    assert _refs(staff, "") == {a.reference, b.reference, c.reference}
    assert _refs(staff, "status=accepted") == {b.reference}
    assert _refs(staff, "payment_status=not_yet") == {a.reference, c.reference}
    inkan = c.procedure_id
    assert _refs(staff, f"procedure={inkan}") == {c.reference}
    today = timezone.localdate().isoformat()
    assert _refs(staff, f"submitted_from={today}") == {a.reference, b.reference}
    old = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert _refs(staff, f"submitted_to={old}") == {c.reference}
    assert _refs(staff, f"q={a.reference}") == {a.reference}
    assert _refs(staff, f"q={a.reference[:4]}-{a.reference[4:]}") >= {a.reference}
    assert _refs(staff, "submitted_from=not-a-date") == set()


def test_csv_export_is_utf8_with_bom_filtered_and_audited(
    demo: dict[str, Any], citizen: Client
) -> None:
    a, _ = submit_application(citizen)
    b, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, b)
    response = staff.get("/export.csv?status=submitted", REMOTE_ADDR="127.0.2.3")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["整理番号", "手続", "担当課", "申請者"]
    assert [r[0] for r in rows[1:]] == [a.reference]
    assert rows[1][3] == "藤沢 花子"
    record = AuditRecord.objects.get(event="application.export")
    assert (record.actor, record.origin, record.detail["rows"]) == (
        f"staff:{StaffAccount.objects.get(login_id='staff-shimin').pk}",
        "127.0.2.3",
        1,
    )
    assert record.detail["query"] == "status=submitted"


def test_csv_cells_cannot_become_formulas(demo: dict[str, Any], citizen: Client) -> None:
    from tests.support.journey import ANSWERS

    submit_application(citizen, answers={**ANSWERS, "name": "=HYPERLINK(1)"})
    rows = list(
        csv.reader(
            io.StringIO(staff_client(demo, "shimin").get("/export.csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[1][3] == "'=HYPERLINK(1)"


def test_every_view_of_an_application_is_audited(demo: dict[str, Any], citizen: Client) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    staff.get(f"/applications/{application.reference}/", REMOTE_ADDR="127.9.8.7")
    staff.get(f"/applications/{application.reference}/", REMOTE_ADDR="127.9.8.7")
    records = AuditRecord.objects.filter(event="application.view")
    assert records.count() == 2
    record = records.first()
    assert record is not None
    assert record.resource == f"application:{application.reference}"
    assert record.origin == "127.9.8.7"
    assert record.actor.startswith("staff:")


def test_names_set_by_administrators_cannot_become_formulas(
    demo: dict[str, Any], citizen: Client
) -> None:
    # Given: an administrator named the procedure and the department with
    # formula starters, full-width ones included, and a citizen did the same
    from madoguchi.shinsei.procedures.models import Procedure
    from tests.support.journey import ANSWERS

    application, _ = submit_application(citizen, answers={**ANSWERS, "name": "＋81 3 0000"})
    procedure = Procedure.objects.get(pk=application.procedure_id)
    Procedure.objects.filter(pk=procedure.pk).update(name='=HYPERLINK("http://x")')
    type(procedure.department).objects.filter(pk=procedure.department_id).update(name="＠SUM(A1)")
    # When: staff export the list
    body = staff_client(demo, "shimin").get("/export.csv").content.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(body)) if r[0] == application.reference)
    # Then: every such cell is text
    assert row[1] == '\'=HYPERLINK("http://x")'
    assert row[2] == "'＠SUM(A1)"
    assert row[3] == "'＋81 3 0000"
