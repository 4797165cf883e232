"""Backup and restore round trip (issue #11 item 5): fill both services,
back up, destroy, restore, and find every application, payment, file and
audit record again, with the audit chain intact. Runs on SQLite (the backup
API) and, with MADOGUCHI_TEST_DATABASE_URL, on PostgreSQL (pg_dump)."""

import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from madoguchi.kessai.payments.models import Payment, Refund
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import verify_chain
from madoguchi.shinsei.applications.files import file_read
from madoguchi.shinsei.applications.models import Application, StoredFile
from tests.conftest import console_client, staff_client
from tests.support.files import use_file_dir
from tests.support.forms import ALL_TYPES, STEP1, STEP2, STEP3, receipt
from tests.support.journey import accept, open_payment_page, pay_by_card, submit_application
from tests.support.scan import table_texts

pytestmark = pytest.mark.django_db(transaction=True)

FILE_BYTES = b"%PDF-1.4 backup-round-trip-7d1e"


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def fill_both_services(demo: dict[str, Any], run_tasks: Any) -> None:
    citizen = Client(HTTP_HOST="shinsei.test")
    citizen.post(f"/procedures/{ALL_TYPES}/")
    for step, data in ((1, STEP1), (2, STEP2), (3, STEP3)):
        citizen.post(f"/procedures/{ALL_TYPES}/steps/{step}", data)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt("領収書.pdf", FILE_BYTES)})
    assert citizen.post(f"/procedures/{ALL_TYPES}/check").status_code == 302
    staff = staff_client(demo, "shimin")
    payer = Client(HTTP_HOST="kessai.test")
    for _ in range(2):
        application, _ = submit_application(citizen)
        accept(staff, application)
        run_tasks()
        path = open_payment_page(citizen, payer, application)
        assert pay_by_card(payer, path, "4242424242424242").status_code == 302
        run_tasks()
    console_client(demo)  # audit records on Kessai's side too


def test_backup_destroy_restore_round_trip(
    demo: dict[str, Any], run_tasks: Any, settings: Settings, tmp_path: Path
) -> None:
    use_file_dir(settings, tmp_path / "files")
    fill_both_services(demo, run_tasks)
    assert Application.objects.filter(payment_status="paid").count() == 2
    assert StoredFile.objects.count() == 1
    assert AuditRecord.objects.count() > 0
    tables = table_texts()
    files = files_under(tmp_path / "files")
    assert len(files) == 1  # the upload, sealed on disk

    archive = tmp_path / "shinsei.tar.gz"
    call_command("backup", output=archive)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    # Disaster: every row and every file gone.
    call_command("flush", interactive=False)
    for path in (tmp_path / "files").rglob("*"):
        if path.is_file():
            path.unlink()
    assert Payment.objects.count() == 0
    assert Application.objects.count() == 0

    call_command("restore", input=archive, yes=True)

    assert table_texts() == tables
    assert files_under(tmp_path / "files") == files
    assert file_read(StoredFile.objects.get()) == FILE_BYTES  # and it opens again
    assert Payment.objects.filter(status="succeeded").count() == 2
    assert Refund.objects.count() == 0
    assert verify_chain() == []


def test_restore_refuses_without_yes_and_another_services_backup(
    settings: Settings, tmp_path: Path
) -> None:
    from django.core.management.base import CommandError

    use_file_dir(settings, tmp_path / "files")
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=archive)
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", input=archive)
    settings.MADOGUCHI_SERVICE = "kessai"
    with pytest.raises(CommandError, match="not kessai"):
        call_command("restore", input=archive, yes=True)
