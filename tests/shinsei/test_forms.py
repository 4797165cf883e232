# ruff: noqa: E501 - one table row per case reads better unwrapped
"""Citizen form validation for every question type: Japanese errors naming
the field, linked from the error summary; nothing typed is lost."""

import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from madoguchi.shinsei.applications.files import EICAR, file_read
from madoguchi.shinsei.applications.forms import ListSelect
from madoguchi.shinsei.applications.models import Application, StoredFile
from tests.support.forms import ALL_TYPES, PDF, STEP1, STEP2, STEP3, receipt
from tests.support.journey import ANSWERS, fill_in


def start(citizen: Client, slug: str = ALL_TYPES) -> None:
    assert citizen.post(f"/procedures/{slug}/")["Location"] == f"/procedures/{slug}/steps/1"


@pytest.mark.parametrize(
    ("step", "field", "value", "anchor", "message"),
    [
        (1, "name", "", "id_name", "氏名を入力してください。"),
        (1, "name", "あ" * 51, "id_name", "氏名は50文字以内で入力してください。"),
        (1, "email", "hanako@", "id_email", "メールアドレスは name@example.jp の形式で入力してください。"),
        (1, "phone", "call me", "id_phone", "電話番号は 0466-25-1111 のように数字とハイフンで入力してください。"),
        (1, "address__postal_code", "2518", "id_address__postal_code", "住所（郵便番号）は 251-8601 のように7桁の数字で入力してください。"),
        (1, "address__prefecture", "大東京都", "id_address__prefecture", "住所（都道府県）は一覧から選択してください。"),
        (1, "address__line", "", "id_address__line", "住所（市区町村・番地）を入力してください。"),
        (2, "children", "0", "id_children", "お子さんの人数は1以上で入力してください。"),
        (2, "children", "二人", "id_children", "お子さんの人数は半角数字で入力してください。"),
        (2, "start_date", "2026-02-30", "id_start_date", "利用開始日は 2000-04-01 のように年-月-日で入力してください。"),
        (2, "service", "", "id_service_0", "利用するサービスを選択してください。"),
        (2, "service", "秘密", "id_service_0", "利用するサービスは一覧から選択してください。"),
        (2, "days", ["日"], "id_days_0", "利用する曜日は一覧から選択してください。"),
        (2, "days", [], "id_days_0", "利用する曜日を1つ以上選択してください。"),
        (2, "provider_postal", "25-1", "id_provider_postal", "事業所の郵便番号は 251-8601 のように7桁の数字で入力してください。"),
        (2, "reason", "x" * 1001, "id_reason", "利用する理由は1000文字以内で入力してください。"),
    ],
)  # fmt: skip
def test_invalid_answer_is_named_in_japanese_and_other_answers_are_kept(
    demo: dict[str, Any],
    citizen: Client,
    step: int,
    field: str,
    value: Any,
    anchor: str,
    message: str,
) -> None:
    # Given a citizen on the step of the question
    start(citizen)
    if step == 2:
        assert citizen.post(f"/procedures/{ALL_TYPES}/steps/1", STEP1).status_code == 302
    answers = {**(STEP1 if step == 1 else STEP2), field: value}
    # When one answer is invalid
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/{step}", answers)
    text = response.content.decode()
    # Then the step is shown again with the error linked from the summary
    assert response.status_code == 400
    assert f'<a href="#{anchor}">{message}</a>' in text
    assert text.count(message) == 2  # in the summary and beside the field
    assert "<title>エラー：" in text
    # and every other answer the citizen typed is still there
    others = {k: v for k, v in answers.items() if k != field and isinstance(v, str)}
    for key, typed in others.items():
        if key in ("service", "address__prefecture"):
            assert f'value="{typed}"' in text  # the option stays selected
        elif key == "reason":
            assert typed.replace("\n", "\n") in text
        else:
            assert f'value="{typed}"' in text, key
    assert Application.objects.count() == 0


def test_full_width_digits_are_accepted(demo: dict[str, Any], citizen: Client) -> None:
    start(citizen)
    response = citizen.post(
        f"/procedures/{ALL_TYPES}/steps/1",
        {**STEP1, "phone": "０４６６－２５－１１１１", "address__postal_code": "２５１８６０１"},
    )
    assert response.status_code == 302


def _to_file_step(citizen: Client) -> None:
    start(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/1", STEP1)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/2", STEP2)
    assert citizen.post(f"/procedures/{ALL_TYPES}/steps/3", STEP3).status_code == 302


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (receipt("receipt.exe", b"MZ\x90\x00"), "利用料の領収書は PDF・JPG・PNG 形式のファイルを選択してください。"),
        (receipt("fake.pdf", b"MZ\x90\x00 not a pdf"), "利用料の領収書は PDF・JPG・PNG 形式のファイルを選択してください。"),
        (receipt("big.pdf", b"%PDF" + b"0" * (2 * 1024 * 1024)), "利用料の領収書のファイルは2MB以下にしてください。"),
        (receipt("virus.pdf", b"%PDF-1.4 " + EICAR), "利用料の領収書：ファイルからウイルスが検出されたため、受け付けできません。"),
        (None, "利用料の領収書のファイルを選択してください。"),
    ],
)  # fmt: skip
def test_a_disallowed_or_oversized_file_is_refused_with_a_clear_message(
    demo: dict[str, Any], citizen: Client, file_dir: Path, upload: Any, message: str
) -> None:
    _to_file_step(citizen)
    data = {"receipt": upload} if upload else {}
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", data)
    assert response.status_code == 400
    assert f'<a href="#id_receipt">{message}</a>' in response.content.decode()
    # Nothing was kept: no row, no bytes on disk.
    assert StoredFile.objects.count() == 0
    assert not file_dir.exists() or list(file_dir.iterdir()) == []


def test_an_accepted_file_is_stored_outside_the_database(
    demo: dict[str, Any], citizen: Client, file_dir: Path
) -> None:
    _to_file_step(citizen)
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt()})
    assert response["Location"] == f"/procedures/{ALL_TYPES}/check"
    stored = StoredFile.objects.get()
    assert (stored.original_name, stored.size, stored.scan) == ("receipt.pdf", len(PDF), "clean")
    # On disk only sealed (AES-256-GCM): the bytes open with the file's key.
    on_disk = (file_dir / stored.storage_name).read_bytes()
    assert b"%PDF" not in on_disk
    assert oct((file_dir / stored.storage_name).stat().st_mode & 0o777) == "0o600"
    assert file_read(stored) == PDF


def test_a_condition_skips_the_step_it_hides(demo: dict[str, Any], citizen: Client) -> None:
    start(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/1", STEP1)
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/2", {**STEP2, "service": "送迎"})
    assert response["Location"] == f"/procedures/{ALL_TYPES}/steps/3"
    # Step 3 has only the question for "その他": it is skipped.
    assert citizen.get(f"/procedures/{ALL_TYPES}/steps/3")["Location"] == (
        f"/procedures/{ALL_TYPES}/steps/4"
    )


def test_answers_survive_going_back_from_the_check_page(
    demo: dict[str, Any], citizen: Client
) -> None:
    fill_in(citizen, "juminhyo", ANSWERS)
    check = citizen.get("/procedures/juminhyo/check").content.decode()
    assert "藤沢 花子" in check
    assert "〒251-8601 神奈川県藤沢市朝日町1番地の1" in check
    assert '<p class="amount" data-testid="fee">600円</p>' in check
    assert 'href="/procedures/juminhyo/steps/1?change=1#id_name"' in check
    again = citizen.get("/procedures/juminhyo/steps/1?change=1").content.decode()
    assert 'value="藤沢 花子"' in again
    assert "確認画面に戻る" in again


def test_check_without_answers_goes_back_to_the_start(
    demo: dict[str, Any], citizen: Client
) -> None:
    response = citizen.post("/procedures/juminhyo/check")
    assert response.status_code == 302
    assert response["Location"] == "/procedures/juminhyo/"
    assert Application.objects.count() == 0


def test_check_with_a_missing_answer_goes_to_that_step(
    demo: dict[str, Any], citizen: Client
) -> None:
    start(citizen, "juminhyo")
    citizen.post("/procedures/juminhyo/steps/1", ANSWERS)
    response = citizen.post("/procedures/juminhyo/check")
    assert response["Location"] == "/procedures/juminhyo/steps/2"
    assert Application.objects.count() == 0


def test_unclaimed_files_and_expired_drafts_are_swept(
    demo: dict[str, Any], citizen: Client, file_dir: Path
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from madoguchi.shinsei.applications import services
    from madoguchi.shinsei.applications.models import Draft

    # Given an uploaded file never submitted, and a submitted one
    _to_file_step(citizen)
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt("old.pdf")})
    citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": receipt("kept.pdf")})
    citizen.post(f"/procedures/{ALL_TYPES}/check")
    by_name = {f.original_name: f for f in StoredFile.objects.all()}
    old, kept = by_name["old.pdf"], by_name["kept.pdf"]
    assert kept.application is not None
    citizen.post("/procedures/juminhyo/")
    citizen.post("/procedures/juminhyo/steps/1", {**ANSWERS, "save": "1"})
    # When the draft expired and the unclaimed file's hours are up
    Draft.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.leftovers_sweep() == 0  # within hours of the upload: kept
    StoredFile.objects.update(created_at=timezone.now() - timedelta(days=32))
    StoredFile.objects.filter(pk=old.pk).update(keep_until=timezone.now() - timedelta(seconds=1))
    assert services.leftovers_sweep() == 1
    # Then only the unclaimed file is gone, from disk and table
    assert list(StoredFile.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not (file_dir / old.storage_name).exists()
    assert (file_dir / kept.storage_name).exists()
    assert not Draft.objects.exists()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("photo.jpeg", "image/jpeg"),
        ("PHOTO.JPG", "image/jpeg"),
        ("scan.jpe", "image/jpeg"),
        ("photo", "image/jpeg"),  # a phone's picker may send no extension
    ],
)
def test_a_jpeg_is_accepted_by_its_bytes_whatever_the_spelling(
    demo: dict[str, Any], citizen: Client, file_dir: Path, name: str, content_type: str
) -> None:
    _to_file_step(citizen)
    upload = SimpleUploadedFile(name, JPEG, content_type=content_type)
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StoredFile.objects.get().original_name == name


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.jpeg", PDF, "image/jpeg"),  # the bytes are a PDF, the name says JPEG
        ("photo", b"MZ\x90\x00", "image/jpeg"),  # no extension, and not an image at all
        ("photo", JPEG, "application/octet-stream"),  # neither name nor type says JPEG
    ],
)
def test_name_type_and_bytes_must_agree(
    demo: dict[str, Any], citizen: Client, name: str, content: bytes, content_type: str
) -> None:
    _to_file_step(citizen)
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = citizen.post(f"/procedures/{ALL_TYPES}/steps/4", {"receipt": upload})
    assert response.status_code == 400
    assert StoredFile.objects.count() == 0


def test_the_picker_offers_every_spelling(demo: dict[str, Any], citizen: Client) -> None:
    _to_file_step(citizen)
    page = citizen.get(f"/procedures/{ALL_TYPES}/steps/4").content.decode()
    accept = re.search(r'<input type="file"[^>]*accept="([^"]*)"', page)
    assert accept
    assert {".jpeg", ".jpg", "image/jpeg", ".pdf", ".png"} <= set(accept.group(1).split(","))


@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        (
            [("", "選択してください"), ("東京都", "東京都"), ("神奈川県", "神奈川県")],
            "神奈川県",
            {},
        ),
        ([("", "選択してください"), ("a&b", '"<a>"')], "", {"required": True, "id": "id_x"}),
        ([("G", [("1", "一"), ("2", "二")]), ("3", "三")], "2", {"disabled": False}),
    ],
)
def test_list_select_renders_what_djangos_select_template_renders(
    choices: list[Any], value: str, attrs: dict[str, Any]
) -> None:
    # ListSelect builds the HTML in Python (the templates cost ~2 ms for the
    # 47 prefectures); it must be the same HTML, escaping included.
    attrs = {"autocomplete": "address-level1", **attrs}
    expected = forms.Select(attrs=attrs, choices=choices).render("field", value)
    assert ListSelect(attrs=attrs, choices=choices).render("field", value) == expected
