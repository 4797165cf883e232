"""What issue #3 added stays in Shinsei: uploaded files, drafts, notes and
emails never reach Kessai; file bytes are not in Shinsei's database either."""

from typing import Any

from django.core import mail
from django.test import Client

from madoguchi.kessai.payments.models import Payment
from madoguchi.shinsei.applications.models import ApplicationNote, Draft, StoredFile
from tests.conftest import staff_client
from tests.support.forms import ALL_TYPES, STEP1, STEP2, STEP3, receipt
from tests.support.journey import ANSWERS, accept, submit_application
from tests.support.scan import table_texts

SECRET_IN_FILE = b"%PDF-1.4 SECRET-RECEIPT-CONTENT-7f3a"


def test_files_drafts_notes_and_mail_stay_in_shinsei(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    # A file upload (bytes on disk, not in any table)
    citizen.post(f"/procedures/{ALL_TYPES}/")
    for step, data in ((1, STEP1), (2, STEP2), (3, STEP3)):
        citizen.post(f"/procedures/{ALL_TYPES}/steps/{step}", data)
    citizen.post(
        f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt("領収書.pdf", SECRET_IN_FILE)}
    )
    citizen.post(f"/procedures/{ALL_TYPES}/check")
    # A draft, a note and a paid-for application with emails
    other = Client(HTTP_HOST="shinsei.test")
    other.post("/procedures/juminhyo/")
    other.post("/procedures/juminhyo/steps/1", {**ANSWERS, "name": "下書 太郎", "save": "1"})
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    staff.post(f"/applications/{application.reference}/notes", {"body": "内部メモ本文"})
    accept(staff, application)
    run_tasks()
    assert Payment.objects.count() == 1
    assert len(mail.outbox) == 3  # two "submitted", one "accepted"

    kessai = "\n".join(table_texts("kessai_").values())
    shinsei = "\n".join(table_texts("shinsei_").values())
    for value in ("領収書", "下書 太郎", "内部メモ本文", "hanako@example.jp", "病児保育"):
        assert value not in kessai, f"{value!r} reached Kessai's tables"
    # Shinsei holds them sealed (AES-256-GCM), never in clear text...
    for value in ("領収書.pdf", "下書 太郎", "内部メモ本文", "hanako@example.jp"):
        assert value not in shinsei, f"{value!r} is in clear text in Shinsei's tables"
    # ...and still opens them.
    assert StoredFile.objects.get().original_name == "領収書.pdf"
    assert Draft.objects.get().data["data"]["name"] == "下書 太郎"
    assert ApplicationNote.objects.get().body == "内部メモ本文"
    assert application.applicant_email == "hanako@example.jp"
    everything = "\n".join(table_texts().values())
    assert "SECRET-RECEIPT-CONTENT" not in everything  # the bytes live on disk only
