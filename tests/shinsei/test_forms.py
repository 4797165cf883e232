"""Citizen form validation: Japanese errors naming the field; nothing typed is lost."""

from typing import Any

import pytest
from django.test import Client

from madoguchi.shinsei.applications.models import Application
from tests.support.journey import ANSWERS


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "氏名を入力してください。"),
        ("birth_date", "1990-13-45", "生年月日は 2000-04-01 のように年-月-日で入力してください。"),
        ("postal_code", "2518", "郵便番号は 251-8601 のように7桁の数字で入力してください。"),
        ("phone", "call me", "電話番号は 0466-25-1111 のように数字とハイフンで入力してください。"),
        ("email", "hanako@", "メールアドレスは name@example.jp の形式で入力してください。"),
        ("copies", "0", "通数は1以上で入力してください。"),
        ("copies", "十", "通数は半角数字で入力してください。"),
        ("purpose", "秘密", "使用目的は一覧から選択してください。"),
    ],
)
def test_invalid_answer_is_named_in_japanese_and_other_answers_are_kept(
    demo: dict[str, Any], citizen: Client, field: str, value: str, message: str
) -> None:
    response = citizen.post("/procedures/juminhyo/", {**ANSWERS, field: value})
    text = response.content.decode()
    assert response.status_code == 400
    assert f'<a href="#id_{field}">{message}</a>' in text  # error summary links to the field
    assert "神奈川県藤沢市朝日町1番地の1" in text  # the address typed is still there
    assert Application.objects.count() == 0


def test_answers_survive_going_back_from_the_check_page(
    demo: dict[str, Any], citizen: Client
) -> None:
    citizen.post("/procedures/juminhyo/", ANSWERS)
    check = citizen.get("/procedures/juminhyo/confirm").content.decode()
    assert "藤沢 花子" in check
    assert "600円" in check
    again = citizen.get("/procedures/juminhyo/").content.decode()
    assert 'value="藤沢 花子"' in again


def test_confirm_without_answers_goes_back_to_the_form(
    demo: dict[str, Any], citizen: Client
) -> None:
    response = citizen.post("/procedures/juminhyo/confirm")
    assert response.status_code == 302
    assert response["Location"] == "/procedures/juminhyo/"
    assert Application.objects.count() == 0
