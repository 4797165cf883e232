"""Issue #12's acceptance: an application's data ends when its retention
ends (except under a legal hold), is sealed at rest, survives key rotation,
is shredded with its key, and can be handed to the applicant in full."""

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.envelope import KeyUnavailable, kek_new_entry, keyring_parse, unseal
from madoguchi.platform.sessions.models import Session
from madoguchi.platform.sessions.store import SessionStore
from madoguchi.shinsei.applications.files import file_read
from madoguchi.shinsei.applications.models import (
    Application,
    ApplicationNote,
    CitizenMail,
    Draft,
    StoredFile,
)
from madoguchi.shinsei.privacy.models import RetentionReport
from madoguchi.shinsei.privacy.services import retention_sweep
from madoguchi.shinsei.procedures.models import Procedure
from tests.conftest import login, staff_client
from tests.support.forms import ALL_TYPES, PDF, STEP1, STEP2, STEP3, receipt
from tests.support.journey import ANSWERS
from tests.support.scan import table_texts

SHION = {
    **STEP1,
    "name": "雪ノ下 紫苑",
    "email": "shion.yukinoshita@example.jp",
    "phone": "0466-98-7654",
    "address__line": "藤沢市片瀬海岸九丁目八番七号 潮騒荘",
}
SHION_FILE = b"%PDF-1.4 SHION-MEDICAL-CERTIFICATE-9q2w"
SHION_VALUES = ["雪ノ下", "紫苑", "shion.yukinoshita", "0466-98-7654", "潮騒荘", "片瀬海岸"]


def file_application(
    citizen: Client, answers: dict[str, Any], content: bytes = PDF, name: str = "診断書.pdf"
) -> Application:
    """The procedure with every question type, a file attached, submitted."""
    assert citizen.post(f"/procedures/{ALL_TYPES}/").status_code == 302
    for step, data in ((1, answers), (2, STEP2), (3, STEP3)):
        response = citizen.post(f"/procedures/{ALL_TYPES}/steps/{step}", data)
        assert response.status_code == 302, response.content.decode()[:2000]
    upload = {"receipt": receipt(name, content)}
    assert citizen.post(f"/procedures/{ALL_TYPES}/steps/4", upload).status_code == 302
    assert citizen.post(f"/procedures/{ALL_TYPES}/check").status_code == 302
    application = Application.objects.order_by("-id").first()
    assert application is not None
    assert application.files.count() == 1
    return application


def admin_client(demo: dict[str, Any]) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "admin-mayor")
    login(client, "admin-mayor", account["password"])
    return client


def _sessions_naming(reference: str) -> list[str]:
    found = []
    for session in Session.objects.all():
        if reference in json.dumps(SessionStore().decode(session.session_data)):
            found.append(session.session_key)
    return found


def test_retention_deletes_every_trace_and_spares_a_held_application(
    demo: dict[str, Any], citizen: Client, file_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # Given 子育て支援 keeps applications 1 year after they end, then deletes them
    Procedure.objects.filter(slug=ALL_TYPES).update(retention_years=1, retention_action="delete")
    gone = file_application(citizen, SHION, SHION_FILE)
    staff = staff_client(demo, "shimin")
    staff.post(f"/applications/{gone.reference}/notes", {"body": "紫苑さんに電話済み"})
    staff.post(f"/applications/{gone.reference}/reject", {"reject-reason": "対象外です"})
    # (its e-mails stay queued: the tasks are not run)
    held = file_application(Client(HTTP_HOST="shinsei.test"), {**STEP1, "name": "保留 花子"})
    staff.post(f"/applications/{held.reference}/reject", {"reject-reason": "対象外です"})
    admin = admin_client(demo)
    response = admin.post(f"/applications/{held.reference}/hold", {"legal_hold": "審査請求中"})
    assert response.status_code == 302
    open_one = file_application(Client(HTTP_HOST="shinsei.test"), {**STEP1, "name": "継続 太郎"})
    gone.refresh_from_db()
    assert gone.status == "rejected"
    mail_ids = list(CitizenMail.objects.filter(application=gone).values_list("pk", flat=True))
    assert DBTaskResult.objects.filter(args_kwargs__kwargs__mail_id__in=mail_ids).exists()
    assert _sessions_naming(gone.reference)  # the citizen's browser session names it
    stored_name = gone.files.get().storage_name
    assert (file_dir / stored_name).exists()

    # When time walks past the retention period and the sweep runs
    later = timezone.now() + timedelta(days=366 + 1)
    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        django_capture_on_commit_callbacks(execute=True),  # the bytes go after commit
    ):
        report = retention_sweep()

    # Then nothing of the deleted application remains anywhere
    assert not Application.objects.filter(pk=gone.pk).exists()
    assert not StoredFile.objects.filter(application_id=gone.pk).exists()
    assert not ApplicationNote.objects.filter(application_id=gone.pk).exists()
    assert not CitizenMail.objects.filter(pk__in=mail_ids).exists()
    assert not (file_dir / stored_name).exists()
    assert not DBTaskResult.objects.filter(args_kwargs__kwargs__application_id=gone.pk).exists()
    assert not DBTaskResult.objects.filter(args_kwargs__kwargs__mail_id__in=mail_ids).exists()
    assert _sessions_naming(gone.reference) == []
    for table, text in table_texts().items():
        if table in ("shinsei_retention_report", "platform_audit_record"):
            continue  # the report and the audit trail keep the 整理番号, by design
        assert gone.reference not in text, f"{gone.reference} left in {table}"
        assert gone.data_key not in text, f"the data key is left in {table}"
    # and the report says what happened, under which rule
    assert (report.deleted, report.anonymised) == (1, 0)
    assert report.held == [{"agency": "mayor", "reference": held.reference}]
    assert report.lines[0]["references"] == [gone.reference]
    assert "1年" in report.lines[0]["rule"]
    admin = admin_client(demo)  # (the walk in time expired every session)
    csv = admin.get(f"/admin/privacy/reports/{report.pk}.csv").content.decode("utf-8-sig")
    assert gone.reference in csv
    assert held.reference in csv
    assert "保存期間経過による削除" in admin.get("/admin/privacy/").content.decode()
    # The held application and the open one are untouched
    for kept in (held, open_one):
        kept = Application.objects.get(pk=kept.pk)
        assert kept.answers["name"] in ("保留 花子", "継続 太郎")
        assert file_read(kept.files.get()) == PDF


def test_anonymisation_keeps_statistics_and_removes_the_person(
    demo: dict[str, Any], citizen: Client, file_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    Procedure.objects.filter(slug=ALL_TYPES).update(retention_years=3, retention_action="anonymise")
    application = file_application(citizen, SHION, SHION_FILE)
    staff = staff_client(demo, "shimin")
    staff.post(f"/applications/{application.reference}/reject", {"reject-reason": "紫苑さん対象外"})
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(days=3 * 365 - 1)
    ):
        assert retention_sweep().anonymised == 0  # not yet three years
    with (
        mock.patch(
            "django.utils.timezone.now", return_value=timezone.now() + timedelta(days=3 * 366 + 2)
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = retention_sweep()
    assert (report.deleted, report.anonymised) == (0, 1)
    kept = Application.objects.get(pk=application.pk)
    assert (kept.status, kept.procedure.slug, kept.fee_amount) == ("rejected", ALL_TYPES, 0)
    assert kept.submitted_at == application.submitted_at
    assert (kept.answers, kept.data_key, kept.reason, kept.inquiry_password) == ({}, "", "", "")
    assert kept.anonymised_at is not None
    assert not kept.files.exists()
    assert not kept.notes.exists()
    assert not kept.mails.exists()
    assert list(file_dir.iterdir()) == []
    assert all(e.detail == {} for e in kept.events.all())
    # A later run leaves it alone.
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(days=3 * 366 + 3)
    ):
        assert retention_sweep().anonymised == 0


def _database_bytes(tmp_path: Path) -> bytes:
    """The database as stored: a copy of the SQLite file, or every row as text."""
    if connection.vendor == "sqlite":
        copy = tmp_path / "copy.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(copy)])
        return copy.read_bytes()
    return "\n".join(table_texts().values()).encode()


@pytest.mark.django_db(transaction=True)
def test_distinctive_answers_are_nowhere_in_clear_text(
    demo: dict[str, Any], citizen: Client, file_dir: Path, tmp_path: Path, run_tasks: Any
) -> None:
    # Given a journey with distinctive answers, a file, a note and a draft
    application = file_application(citizen, SHION, SHION_FILE, name="紫苑の診断書.pdf")
    staff = staff_client(demo, "shimin")
    staff.post(f"/applications/{application.reference}/notes", {"body": "潮騒荘の紫苑さん"})
    staff.post(f"/applications/{application.reference}/accept", {"amount": "0"})
    other = Client(HTTP_HOST="shinsei.test")
    other.post(f"/procedures/{ALL_TYPES}/")
    other.post(f"/procedures/{ALL_TYPES}/steps/1", {**SHION, "save": "1"})
    run_tasks()
    # When the database file and the file store are read directly
    stored = _database_bytes(tmp_path)
    files = b"".join(p.read_bytes() for p in file_dir.rglob("*") if p.is_file())
    # Then none of it is there in clear text
    assert application.reference.encode() in stored  # sanity: the copy is the database
    for value in [*SHION_VALUES, "診断書"]:
        assert value.encode() not in stored, f"{value!r} in the database file"
        assert value.encode("utf-16-le") not in stored
    assert b"SHION-MEDICAL" not in files
    assert files
    # and everything still opens for those allowed to see it
    application = Application.objects.get(pk=application.pk)
    assert application.answers["name"] == "雪ノ下 紫苑"
    assert file_read(application.files.get()) == SHION_FILE
    assert application.notes.get().body == "潮騒荘の紫苑さん"
    assert Draft.objects.get().data["data"]["name"] == "雪ノ下 紫苑"
    page = staff.get("/").content.decode()
    assert "雪ノ下 紫苑" in page  # the staff list shows the applicant's name as before


def test_after_key_rotation_every_application_still_opens(
    demo: dict[str, Any], citizen: Client, settings: Settings
) -> None:
    first = file_application(citizen, SHION, SHION_FILE)
    staff_client(demo, "shimin").post(f"/applications/{first.reference}/notes", {"body": "メモ"})
    Client(HTTP_HOST="shinsei.test").post(f"/procedures/{ALL_TYPES}/")
    old = settings.SHINSEI_DATA_KEYRING
    old_entry = "test1:" + __import__("base64").urlsafe_b64encode(old.keys["test1"]).decode()
    new_entry = kek_new_entry("k2")
    # Only the new KEK: nothing opens yet (the data keys are wrapped by the old one)
    settings.SHINSEI_DATA_KEYRING = keyring_parse(new_entry)
    with pytest.raises(KeyUnavailable):
        _ = Application.objects.get(pk=first.pk).answers
    # The new KEK first, the old one after it: rotate
    settings.SHINSEI_DATA_KEYRING = keyring_parse(f"{new_entry},{old_entry}")
    out = io.StringIO()
    call_command("data_keys_rotate", stdout=out)
    assert "shinsei_application: 1 re-wrapped" in out.getvalue()
    sealed_before = bytes(Application.objects.get(pk=first.pk).answers_sealed)
    # Then with the new KEK alone every application, file and note opens
    settings.SHINSEI_DATA_KEYRING = keyring_parse(new_entry)
    for application in Application.objects.all():
        assert application.answers["name"]
        for stored in application.files.all():
            assert file_read(stored)
        for note in application.notes.all():
            assert note.body == "メモ"
    assert Application.objects.filter(data_key__startswith="k2$").count() == 1
    # and the data itself was not re-encrypted
    assert bytes(Application.objects.get(pk=first.pk).answers_sealed) == sealed_before


def test_deleting_an_application_shreds_what_backups_hold(
    demo: dict[str, Any], citizen: Client, file_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from madoguchi.shinsei.privacy.services import application_erase

    application = file_application(citizen, SHION, SHION_FILE)
    other = file_application(Client(HTTP_HOST="shinsei.test"), STEP1)
    stored = application.files.get()
    # A backup of the file store and of the application's sealed answers
    backup_file = (file_dir / stored.storage_name).read_bytes()
    backup_answers = bytes(application.answers_sealed)
    assert application.unseal(backup_answers, "answers")  # they open today
    with django_capture_on_commit_callbacks(execute=True):
        application_erase(application=application)
    assert not (file_dir / stored.storage_name).exists()
    # After deletion no key anywhere opens them: not the application's own
    # (destroyed with its row), nor any key still held
    texts = "\n".join(table_texts().values())
    assert application.data_key not in texts
    assert stored.data_key not in texts
    for row in [*Application.objects.all(), *StoredFile.objects.all()]:
        with pytest.raises(KeyUnavailable):
            unseal(row._key(), backup_answers, purpose="answers")
        with pytest.raises(KeyUnavailable):
            unseal(row._key(), backup_file, purpose=f"file:{stored.id}")
    assert Application.objects.get().pk == other.pk


def test_access_request_exports_all_of_one_applicant_and_nothing_else(
    demo: dict[str, Any], citizen: Client
) -> None:
    # Given two applications of 紫苑 (one with a file) and one of someone else
    with_file = file_application(citizen, SHION, SHION_FILE, name="紫苑の診断書.pdf")
    shion_answers = {
        **ANSWERS,
        "name": "雪ノ下 紫苑",
        "email": "Shion.Yukinoshita@example.jp",
        "phone": "０４６６－９８－７６５４",
    }
    from tests.support.journey import submit_application

    juminhyo, _ = submit_application(Client(HTTP_HOST="shinsei.test"), answers=shion_answers)
    someone, _ = submit_application(
        Client(HTTP_HOST="shinsei.test"), answers={**ANSWERS, "name": "他人 一郎"}
    )
    admin = admin_client(demo)
    # When an administrator exports by e-mail address
    response = admin.post(
        "/admin/privacy/access-request", {"email": "shion.yukinoshita@example.jp"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    # Then it holds every answer and file of theirs...
    assert f"{with_file.reference}/files/1-紫苑の診断書.pdf" in names
    assert archive.read(f"{with_file.reference}/files/1-紫苑の診断書.pdf") == SHION_FILE
    answers = json.loads(archive.read(f"{juminhyo.reference}/answers.json"))["answers"]
    assert answers == Application.objects.get(pk=juminhyo.pk).answers
    summary = archive.read("summary.txt").decode()
    assert "該当する申請: 2件" in summary
    assert "雪ノ下 紫苑" in summary
    assert {f"{r}/history.json" for r in (with_file.reference, juminhyo.reference)} <= set(names)
    # ...and nothing of anyone else's
    everything = b"".join(archive.read(n) for n in names)
    assert someone.reference.encode() not in everything
    assert "他人".encode() not in everything
    # It is audited; a telephone number finds the same applications
    record = AuditRecord.objects.get(event="privacy.access_request")
    assert sorted(record.detail["references"]) == sorted([with_file.reference, juminhyo.reference])
    by_phone = admin.post("/admin/privacy/access-request", {"phone": "0466-98-7654"})
    assert len({n.split("/")[0] for n in zipfile.ZipFile(io.BytesIO(by_phone.content)).namelist()
                if "/" in n}) == 2  # fmt: skip
    # Nothing given, or nothing found, is a clear message
    assert admin.post("/admin/privacy/access-request", {}).status_code == 400
    missing = admin.post("/admin/privacy/access-request", {"email": "nobody@example.jp"})
    assert missing.status_code == 404
    assert "該当する申請はありません。" in missing.content.decode()


def test_legal_hold_is_for_administrators_of_the_agency(
    demo: dict[str, Any], citizen: Client
) -> None:
    application = file_application(citizen, STEP1)
    staff = staff_client(demo, "shimin")
    response = staff.post(f"/applications/{application.reference}/hold", {"legal_hold": "x"})
    assert response.status_code == 403
    admin = admin_client(demo)
    admin.post(f"/applications/{application.reference}/hold", {"legal_hold": "訴訟"})
    application.refresh_from_db()
    assert (application.legal_hold, application.legal_hold_at is not None) == ("訴訟", True)
    admin.post(f"/applications/{application.reference}/hold", {"legal_hold": ""})
    application.refresh_from_db()
    assert (application.legal_hold, application.legal_hold_at) == ("", None)
    assert AuditRecord.objects.filter(event="application.legal_hold_clear").count() == 1
    assert RetentionReport.objects.count() == 0
