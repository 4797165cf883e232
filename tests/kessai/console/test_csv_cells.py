"""Console exports and deletion reports neutralise formula starters in every
cell, full-width forms included (the merchant's name is typed by an
administrator; a reference may start with a hyphen)."""

import datetime

from django.test import Client

from madoguchi.kessai.merchants import lifecycle
from madoguchi.kessai.merchants.models import Merchant
from tests.kessai.console.conftest import make_payment, succeed_at

AT = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)


def _csv(response: object) -> str:
    content = getattr(response, "streaming_content", None)
    raw = b"".join(content) if content is not None else response.content  # type: ignore[attr-defined]
    return raw.decode("utf-8-sig")


def test_every_console_export_neutralises_formulas(
    merchants: list[Merchant], admin: Client
) -> None:
    # Given: a merchant whose name starts with a full-width plus, and a
    # reference starting with a hyphen
    mayor = merchants[0]
    Merchant.objects.filter(pk=mayor.pk).update(display_name="＋1+1")
    succeed_at(make_payment(mayor, 500, "-2-3"), AT)
    # Then: in each export, those cells are text
    transactions = _csv(admin.get("/exports/transactions.csv?reference=-2-3"))
    assert ",'＋1+1,'-2-3,500," in transactions
    assert ",'＋1+1," in _csv(admin.get("/exports/daily.csv"))
    assert ",'＋1+1," in _csv(admin.get("/exports/monthly.csv"))


def test_deletion_report_neutralises_formulas(merchants: list[Merchant], admin: Client) -> None:
    mayor = merchants[0]
    Merchant.objects.filter(pk=mayor.pk).update(display_name="＝cmd|' /C calc'!A0")
    mayor.refresh_from_db()
    report = lifecycle.merchant_contract_end(merchant=mayor, ended_by="console:test")
    body = _csv(admin.get(f"/reports/{report.pk}.csv"))
    assert "加盟店,'＝cmd|' /C calc'!A0" in body.replace('"', "")
