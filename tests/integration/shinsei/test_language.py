"""The citizen's language goes with them onto Kessai's payment page (the
rest of the language choice: tests/shinsei/test_language.py)."""

from typing import Any

from django.test import Client


def test_the_citizens_language_is_handed_to_the_payment_page(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    from tests.conftest import staff_client
    from tests.support.journey import accept, open_payment_page, submit_application

    application, _password = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    citizen.get("/?lang=en")
    english = payer.get(open_payment_page(citizen, payer, application)).content.decode()
    assert '<html lang="en">' in english
    assert "Pay ¥600" in english
    # And back: Japanese in Shinsei gives a Japanese payment page.
    citizen.get("/?lang=ja")
    japanese = payer.get(open_payment_page(citizen, payer, application)).content.decode()
    assert '<html lang="ja">' in japanese
