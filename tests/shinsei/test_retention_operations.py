"""Retention as an operator runs it: now, with a dry run first; every copy
of a deleted applicant's mail goes with the application; each agency's
report holds its own applications only."""

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.privacy.selectors import reports_for_agency
from madoguchi.shinsei.privacy.services import retention_sweep
from madoguchi.shinsei.procedures.models import Procedure
from tests.conftest import staff_client
from tests.shinsei.test_privacy_lifecycle import SHION, admin_client, file_application
from tests.support.forms import ALL_TYPES, STEP1


def _rejected(demo: dict[str, Any], answers: dict[str, Any]) -> Application:
    application = file_application(Client(HTTP_HOST="shinsei.test"), answers)
    staff = staff_client(demo, "shimin")
    staff.post(f"/applications/{application.reference}/reject", {"reject-reason": "対象外です"})
    application.refresh_from_db()
    assert application.status == "rejected"
    return application


def _a_year_later() -> Any:
    return mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(days=368)
    )


def test_retention_run_dry_run_lists_what_would_go_and_the_run_deletes_it(
    demo: dict[str, Any], file_dir: Path, capsys: Any
) -> None:
    Procedure.objects.filter(slug=ALL_TYPES).update(retention_years=1, retention_action="delete")
    gone = _rejected(demo, SHION)
    held = _rejected(demo, {**STEP1, "name": "保留 花子"})
    admin = admin_client(demo)
    admin.post(f"/applications/{held.reference}/hold", {"legal_hold": "審査請求中"})
    kept = file_application(Client(HTTP_HOST="shinsei.test"), {**STEP1, "name": "継続 太郎"})

    with _a_year_later():
        call_command("retention_run", "--dry-run")
    listed = capsys.readouterr().out
    assert f"{gone.reference}\t削除" in listed
    assert f"{held.reference}\t法的保留のため保存" in listed
    assert kept.reference not in listed
    assert "dry run: 2 application(s) due, nothing changed" in listed
    assert Application.objects.filter(pk=gone.pk).exists()  # nothing changed

    with _a_year_later():
        call_command("retention_run")
    assert "1 deleted, 0 anonymised, 1 held" in capsys.readouterr().out
    assert not Application.objects.filter(pk=gone.pk).exists()
    assert Application.objects.filter(pk__in=[held.pk, kept.pk]).count() == 2


def test_retention_deletes_the_mail_spool_copies_of_a_deleted_applicant(
    demo: dict[str, Any],
    file_dir: Path,
    settings: Settings,
    tmp_path: Path,
    run_tasks: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    spool = tmp_path / "mail"
    settings.MAILERS = {
        "default": {
            "BACKEND": "madoguchi.platform.private_files.PrivateFileEmailBackend",
            "OPTIONS": {"file_path": str(spool)},
        }
    }
    Procedure.objects.filter(slug=ALL_TYPES).update(retention_years=1, retention_action="delete")
    gone = _rejected(demo, SHION)
    other = file_application(
        Client(HTTP_HOST="shinsei.test"), {**STEP1, "email": "other.person@example.jp"}
    )
    run_tasks()

    def spooled(address: str) -> list[Path]:
        return [p for p in spool.iterdir() if address in p.read_text(errors="replace")]

    assert len(spooled(SHION["email"])) == 2  # submitted, rejected
    assert len(spooled("other.person@example.jp")) == 1

    with _a_year_later(), django_capture_on_commit_callbacks(execute=True):
        retention_sweep()

    assert not Application.objects.filter(pk=gone.pk).exists()
    assert spooled(SHION["email"]) == []
    assert len(spooled("other.person@example.jp")) == 1  # another applicant's stays
    assert Application.objects.filter(pk=other.pk).exists()


def test_an_agencys_retention_report_shows_only_its_own_held_applications(
    demo: dict[str, Any], file_dir: Path
) -> None:
    Procedure.objects.filter(slug=ALL_TYPES).update(retention_years=1, retention_action="delete")
    held = _rejected(demo, {**STEP1, "name": "保留 花子"})
    gone = _rejected(demo, {**STEP1, "name": "削除 次郎"})
    admin_client(demo).post(f"/applications/{held.reference}/hold", {"legal_hold": "訴訟"})
    with _a_year_later():
        retention_sweep()

    (mayor,) = reports_for_agency(agency_code="mayor")
    assert (mayor.deleted, mayor.held) == (1, [held.reference])
    assert mayor.lines[0]["references"] == [gone.reference]
    (committee,) = reports_for_agency(agency_code="agri-committee")
    assert (committee.deleted, committee.anonymised, committee.held) == (0, 0, [])
    assert committee.lines == []
