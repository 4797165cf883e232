"""利用目的 and notice per form version; the personal-data inventory; bounded
uploads and orphans removed within hours; file storage configuration; the
data migration that seals rows stored before encryption at rest."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from madoguchi.platform.conf import file_storage_from_env
from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.files import file_read
from madoguchi.shinsei.applications.models import Application, ApplicationNote, StoredFile
from madoguchi.shinsei.privacy.inventory import inventory_document, inventory_unclassified
from madoguchi.shinsei.procedures.models import Procedure
from tests.conftest import login
from tests.support.forms import ALL_TYPES, PDF, STEP1, STEP2, STEP3, receipt
from tests.support.journey import submit_application

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "personal-data-inventory.md"


def _admin(demo: dict[str, Any]) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "admin-mayor")
    login(client, "admin-mayor", account["password"])
    return client


def test_the_notice_is_shown_first_and_kept_with_the_form_version(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    procedure = Procedure.objects.get(slug="juminhyo")
    start = citizen.get("/procedures/juminhyo/").content.decode()
    assert procedure.purpose
    assert procedure.purpose in start
    assert start.index("個人情報の取扱い") < start.index("申請を始める")
    application, _ = submit_application(citizen)
    version = application.form_version
    assert version is not None
    assert version.purpose == procedure.purpose
    link = f"http://shinsei.test/procedures/juminhyo/privacy/{version.number}"
    run_tasks()
    assert link in mail.outbox[0].body  # the e-mail links to the notice it was given under
    # When an administrator changes the 利用目的, a new version carries it...
    Procedure.objects.filter(pk=procedure.pk).update(purpose="新しい利用目的")
    later, _ = submit_application(Client(HTTP_HOST="shinsei.test"))
    assert later.form_version is not None
    assert later.form_version.number == version.number + 1
    assert "新しい利用目的" in citizen.get("/procedures/juminhyo/privacy").content.decode()
    # ...while the earlier applicant's notice still reads as it did
    old = citizen.get(f"/procedures/juminhyo/privacy/{version.number}").content.decode()
    assert procedure.purpose in old
    assert "新しい利用目的" not in old
    assert citizen.get("/procedures/juminhyo/privacy/99").status_code == 404


def test_the_confirmation_page_links_to_the_notice(demo: dict[str, Any], citizen: Client) -> None:
    from tests.support.journey import ANSWERS, fill_in

    fill_in(citizen, "juminhyo", ANSWERS)
    citizen.post("/procedures/juminhyo/check")
    page = citizen.get("/submitted").content.decode()
    assert 'data-testid="privacy-link"' in page
    assert "http://shinsei.test/procedures/juminhyo/privacy/1" in page


def test_every_installed_model_field_is_classified() -> None:
    assert inventory_unclassified() == []


def test_a_new_unclassified_field_fails_the_inventory() -> None:
    class Pet(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "shinsei_applications"

    assert inventory_unclassified([Pet]) == [
        "shinsei_applications.Pet.id",
        "shinsei_applications.Pet.name",
    ]
    # A field added to a classified model is caught as well
    field = models.CharField(max_length=10)
    field.set_attributes_from_name("nickname")
    with mock.patch.object(Application._meta, "concrete_fields", (field,)):
        assert inventory_unclassified([Application]) == [
            "shinsei_applications.Application.nickname"
        ]


def test_the_inventory_document_is_current(demo: dict[str, Any]) -> None:
    if os.environ.get("MADOGUCHI_REGENERATE_DOCS"):
        DOCUMENT.write_text(inventory_document())
    assert DOCUMENT.read_text() == inventory_document(), (
        "regenerate: uv run madoguchi shinsei privacy_inventory --write "
        "docs/personal-data-inventory.md (on the demo data)"
    )
    # Kessai's tables are listed, and hold no citizen's personal data
    assert "### kessai_payment" in DOCUMENT.read_text()


def test_the_administrators_page_lists_the_inventory(demo: dict[str, Any]) -> None:
    page = _admin(demo).get("/admin/privacy/").content.decode()
    assert "個人情報ファイル簿" in page
    assert "shinsei_application（application）" in page or "shinsei_application（" in page
    assert "answers_sealed" in page


def _to_file_step(citizen: Client) -> None:
    citizen.post(f"/procedures/{ALL_TYPES}/")
    for step, data in ((1, STEP1), (2, STEP2), (3, STEP3)):
        assert citizen.post(f"/procedures/{ALL_TYPES}/steps/{step}", data).status_code == 302


def test_uploads_are_bounded_per_session(
    demo: dict[str, Any], citizen: Client, settings: Settings
) -> None:
    settings.SHINSEI_UPLOADS_PER_SESSION = 2
    _to_file_step(citizen)
    for name in ("a.pdf", "b.pdf"):
        response = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt(name)})
        assert response.status_code == 302
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt("c.pdf")})
    assert response.status_code == 400
    assert "上限に達しました" in response.content.decode()
    assert "利用料の領収書" in response.content.decode()  # the field is named
    assert StoredFile.objects.count() == 2


def test_uploads_are_bounded_per_address(demo: dict[str, Any], settings: Settings) -> None:
    settings.SHINSEI_UPLOADS_PER_ADDRESS_HOUR = 2
    statuses = []
    for _ in range(3):  # a fresh session each time, from one address
        browser = Client(HTTP_HOST="shinsei.test", REMOTE_ADDR="203.0.113.9")
        _to_file_step(browser)
        statuses.append(
            browser.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt()}).status_code
        )
    assert statuses == [302, 302, 400]
    assert StoredFile.objects.count() == 2
    other = Client(HTTP_HOST="shinsei.test", REMOTE_ADDR="203.0.113.10")
    _to_file_step(other)
    assert other.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt()}).status_code == 302


def test_orphaned_uploads_are_removed_within_hours(
    demo: dict[str, Any], citizen: Client, file_dir: Path
) -> None:
    _to_file_step(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt()})
    stored = StoredFile.objects.get()
    assert services.leftovers_sweep() == 0
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=6, minutes=1)
    ):
        assert services.leftovers_sweep() == 1
    assert not StoredFile.objects.exists()
    assert not (file_dir / stored.storage_name).exists()


def test_a_saved_draft_keeps_its_files_until_it_expires(
    demo: dict[str, Any], citizen: Client
) -> None:
    _to_file_step(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt(), "save": "1"})
    stored = StoredFile.objects.get()
    assert stored.keep_until is not None
    assert stored.keep_until > timezone.now() + timedelta(days=29)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=2)):
        assert services.leftovers_sweep() == 0


def test_file_storage_is_the_file_system_or_an_s3_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    local = file_storage_from_env("shinsei")
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert local["OPTIONS"]["file_permissions_mode"] == 0o600
    monkeypatch.setenv("SHINSEI_FILE_STORAGE", "s3")
    monkeypatch.setenv("SHINSEI_S3_BUCKET", "shinsei-files")
    monkeypatch.setenv("SHINSEI_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    config = file_storage_from_env("shinsei")
    from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]

    storage = S3Storage(**config["OPTIONS"])  # builds without contacting the bucket
    assert (storage.bucket_name, storage.endpoint_url, storage.default_acl) == (
        "shinsei-files",
        "http://127.0.0.1:9000",
        "private",
    )
    assert storage.file_overwrite is False


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_seals_rows_stored_in_clear(
    demo: dict[str, Any], file_dir: Path
) -> None:
    # Given the schema before encryption at rest, with an application, a note
    # and a file stored in clear
    before = [("shinsei_applications", "0004_application_payment_gateway")]
    # (to the latest migration: the models below are today's)
    after = MigrationExecutor(connection).loader.graph.leaf_nodes("shinsei_applications")
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    procedure = old.get_model("shinsei_procedures", "Procedure").objects.get(slug="juminhyo")
    # (Only the id: the accounts' own columns are of a later migration.)
    staff_id = old.get_model("shinsei_staff", "StaffAccount").objects.values_list("pk", flat=True)[
        0
    ]
    application = old.get_model("shinsei_applications", "Application").objects.create(
        procedure_id=procedure.pk,
        reference="123412341234",
        inquiry_password="x",
        answers={"name": "旧式 保存"},
        applicant_email="old@example.jp",
    )
    old.get_model("shinsei_applications", "ApplicationNote").objects.create(
        application_id=application.pk, author_id=staff_id, body="平文のメモ"
    )
    file_dir.mkdir(parents=True, exist_ok=True)
    (file_dir / "oldfile").write_bytes(PDF)
    old.get_model("shinsei_applications", "StoredFile").objects.create(
        procedure_id=procedure.pk,
        application_id=application.pk,
        question="receipt",
        original_name="旧い領収書.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="",
        storage_name="oldfile",
        scan="clean",
    )
    # When the migration runs (and any later ones, so today's model can read)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("shinsei_applications"))
    # Then everything is sealed, and opens
    migrated = Application.objects.get(reference="123412341234")
    assert migrated.answers == {"name": "旧式 保存"}
    assert b"\xe6\x97\xa7" not in bytes(migrated.answers_sealed)  # "旧" in UTF-8
    assert ApplicationNote.objects.get(application=migrated).body == "平文のメモ"
    stored = StoredFile.objects.get(application=migrated)
    assert stored.original_name == "旧い領収書.pdf"
    assert b"%PDF" not in (file_dir / stored.storage_name).read_bytes()
    assert file_read(stored) == PDF
