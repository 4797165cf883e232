"""What the seed promises, tested: no personal data reaches Kessai; card
numbers and security codes reach no database and no log."""

import logging
from typing import Any

import pytest
from django.test import Client

from madoguchi.shinsei.applications.models import Application
from tests.conftest import staff_client
from tests.support.journey import (
    ANSWERS,
    accept,
    open_payment_page,
    pay_by_card,
    submit_application,
)
from tests.support.scan import table_texts

DISTINCT = {
    **ANSWERS,
    "name": "雪ノ下 紫苑",
    "name_kana": "ユキノシタ シオン",
    "address__line": "藤沢市片瀬海岸九丁目八番七号 潮騒荘",
    "email": "shion.yukinoshita@example.jp",
    "phone": "0466-98-7654",
}
PAN = "5555555555554444"
CVC = "7391"


@pytest.fixture
def paid_journey(
    demo: dict[str, Any],
    citizen: Client,
    payer: Client,
    run_tasks: Any,
    caplog: pytest.LogCaptureFixture,
) -> str:
    caplog.set_level(logging.DEBUG)
    application, _ = submit_application(citizen, answers=DISTINCT)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    path = open_payment_page(citizen, payer, application)
    pay_by_card(payer, path, "4000000000000002", cvc=CVC)  # a decline first
    assert pay_by_card(payer, path, PAN, cvc=CVC).status_code == 302
    run_tasks()
    return "住民票の写しの交付申請"


def test_no_personal_data_or_procedure_name_in_kessai_tables(paid_journey: str) -> None:
    kessai = table_texts("kessai_")
    assert {"kessai_payment", "kessai_attempt", "kessai_notification"} <= set(kessai)
    everything = "\n".join(kessai.values())
    for value in (
        "雪ノ下",
        "紫苑",
        "ユキノシタ",
        "潮騒荘",
        "片瀬海岸",
        "shion.yukinoshita",
        "0466-98-7654",
        paid_journey,
        "市民課",
    ):
        assert value not in everything, f"{value!r} reached Kessai's tables"


def test_shinsei_keeps_the_personal_data_it_needs_sealed(paid_journey: str) -> None:
    shinsei = "\n".join(table_texts("shinsei_").values())
    assert "住民票の写しの交付申請" in shinsei  # sanity: the scan does see stored values
    assert "雪ノ下 紫苑" not in shinsei  # answers are sealed under a data key
    assert "片瀬海岸九丁目八番七号 潮騒荘" not in shinsei
    application = Application.objects.get()
    assert application.answers["name"] == "雪ノ下 紫苑"  # and still open


def test_card_number_and_security_code_are_in_no_table(paid_journey: str) -> None:
    for table, text in table_texts().items():
        assert PAN not in text, f"card number stored in {table}"
        assert "4000000000000002" not in text, f"card number stored in {table}"
        assert f"'{CVC}'" not in text, f"CVC stored in {table}"
        assert f'"{CVC}"' not in text, f"CVC stored in {table}"


def test_card_number_and_security_code_are_in_no_log(
    paid_journey: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    captured = capsys.readouterr()
    records = caplog.get_records("setup")  # the journey ran in the fixture
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records)
    logs += captured.out + captured.err
    assert "HTTP Request" in logs  # sanity: the journey's logging was captured
    assert PAN not in logs
    assert "4000000000000002" not in logs
    assert CVC not in logs
