"""No card data on any console page or export: not the number, not the last
four digits, not the expiry date, not the brand (seed 2(4)エ)."""

import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments import services
from madoguchi.kessai.payments.models import Attempt, Payment
from madoguchi.kessai.statistics.models import FeeRate
from tests.kessai.console.conftest import make_payment

# (number, security code) for every sandbox card that can be paid with, and a decline.
CARDS = [
    ("4242424242424242", "123"),
    ("5555555555554444", "123"),
    ("3530111333300000", "123"),
    ("378282246310005", "1234"),
    ("36227206271667", "123"),
    ("4000000000000002", "123"),
]
EXP_MONTH, EXP_YEAR = "9", "2034"
EXPIRY = ["2034", "09/34", "9/34", "09/2034", "2034-09", "2034/09", "0934"]
BRANDS = ["visa", "mastercard", "jcb", "american express", "amex", "diners"]


def _token(value: str) -> re.Pattern[str]:
    # A value standing on its own: random ids (hex) may contain four digits.
    return re.compile(rf"(?<![0-9A-Za-z_]){re.escape(value)}(?![0-9A-Za-z_])", re.IGNORECASE)


_PATH_ID = re.compile(r"/[0-9]{1,9}/")  # card numbers are 13 to 19 digits: never hidden


def _spaced(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def pay_with_every_card(merchant: Merchant) -> list[Payment]:
    payments = []
    for index, (number, cvc) in enumerate(CARDS):
        payment = make_payment(merchant, 1000 + index, f"SCAN-{chr(65 + index)}")
        payer = Client(HTTP_HOST="kessai.test")
        raw, _ = services.checkout_token_create(payment=payment)
        path = str(payer.get(f"/checkout/{raw}/")["Location"])
        payer.post(
            path + "card",
            {
                "card_number": number,
                "exp_month": EXP_MONTH,
                "exp_year": EXP_YEAR,
                "security_code": cvc,
            },
        )
        payments.append(payment)
    return payments


@pytest.fixture
def console_output(merchants: list[Merchant], admin: Client, run_tasks: Any) -> dict[str, str]:
    """Every console page and export after paying with each sandbox card."""
    FeeRate.objects.create(method="card", effective_from="2020-01-01", percent="3.240")
    payments = pay_with_every_card(merchants[0])
    run_tasks()  # notifications delivered: the delivery log has rows
    # Sanity: the attempts do carry brand and last four, so the scan can fail.
    assert Attempt.objects.filter(card_last4="4242", card_brand="visa").exists()
    # A contract end produces a report page and its download.
    assert (
        admin.post("/merchants/agri-committee/end", {"confirm_code": "agri-committee"}).status_code
        == 302
    )
    paid_day = Payment.objects.filter(status="succeeded").first()
    assert paid_day is not None
    assert paid_day.paid_at is not None
    day = services.timezone.localtime(paid_day.paid_at).date()  # type: ignore[attr-defined]
    paths = [
        "/",
        "/?status=succeeded",
        f"/dashboard?day={day:%Y-%m-%d}",
        "/dashboard",
        f"/dashboard/month?month={day:%Y-%m}",
        "/exports",
        "/merchants",
        "/merchants/mayor",
        "/merchants/agri-committee",
        "/merchants/mayor/end",
        "/merchants/new",
        "/reports",
        "/fee-rates",
        "/accounts",
        *[f"/transactions/{p.public_id}" for p in payments],
    ]
    from madoguchi.kessai.history.models import DeletionReport

    for report in DeletionReport.objects.all():
        paths += [f"/reports/{report.pk}", f"/reports/{report.pk}.csv"]
    exports = [
        "/exports/transactions.csv",
        "/exports/transactions.csv?encoding=shift_jis",
        "/exports/daily.csv",
        "/exports/daily.csv?encoding=shift_jis",
        "/exports/monthly.csv",
        "/exports/monthly.csv?encoding=shift_jis",
    ]
    output = {}
    for path in paths:
        response = admin.get(path)
        assert response.status_code == 200, path
        output[path] = response.content.decode()
    for path in exports:
        response = admin.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        output[path] = body.decode("cp932" if "shift_jis" in path else "utf-8-sig")
    return output


def test_no_card_number_last_four_expiry_or_brand_on_any_page_or_export(
    console_output: dict[str, str],
) -> None:
    assert "SCAN-A" in console_output["/exports/transactions.csv"]  # sanity
    forbidden: list[tuple[str, re.Pattern[str]]] = []
    for number, cvc in CARDS:
        forbidden += [
            (number, re.compile(re.escape(number))),
            (_spaced(number), re.compile(re.escape(_spaced(number)))),
            (number[-4:], _token(number[-4:])),
            (cvc, _token(cvc)),
        ]
    forbidden += [(value, _token(value)) for value in EXPIRY + BRANDS]
    for path, text in console_output.items():
        # Database ids in the pages' own links (/notifications/123/resend) are
        # not card data: a three-digit security code would match one once the
        # sequence gets there (PostgreSQL does not reset it between tests).
        text = _PATH_ID.sub("/<id>/", text)
        for value, pattern in forbidden:
            match = pattern.search(text)
            assert match is None, (
                f"{value!r} on {path}: …{text[max(match.start() - 60, 0) : match.end() + 60]}…"
            )
