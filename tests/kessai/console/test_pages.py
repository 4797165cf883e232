"""Console pages: roles, transaction search and detail, exports and their audit."""

import datetime
from zoneinfo import ZoneInfo

from django.test import Client

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.kessai.merchants.models import Merchant
from madoguchi.kessai.payments.ledger import ledger_add
from madoguchi.kessai.payments.models import Notification, NotificationDelivery
from madoguchi.kessai.statistics.models import FeeRate
from madoguchi.platform.audit.models import AuditRecord
from tests.kessai.console.conftest import make_payment, succeed_at

JST = ZoneInfo("Asia/Tokyo")
AT = datetime.datetime(2026, 11, 20, 23, 30, tzinfo=JST)


def test_console_needs_login() -> None:
    anonymous = Client(HTTP_HOST="console.kessai.test")
    for path in ("/", "/dashboard", "/dashboard/month", "/exports/transactions.csv", "/merchants"):
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login")


def test_console_urls_do_not_exist_on_the_public_listener(db: None) -> None:
    public = Client(HTTP_HOST="kessai.test")
    assert public.get("/dashboard").status_code == 404
    assert public.get("/exports/transactions.csv").status_code == 404


def test_viewer_reads_but_cannot_manage(merchants: list[Merchant], viewer: Client) -> None:
    for path in ("/", "/dashboard", "/dashboard/month", "/merchants", "/reports", "/fee-rates"):
        assert viewer.get(path).status_code == 200, path
    # When: the viewer tries what only administrators may do
    assert viewer.get("/merchants/new").status_code == 403
    response = viewer.post(
        "/merchants/new",
        {"code": "kyoiku", "display_name": "教育委員会", "notification_url": "http://x.test/n"},
    )
    assert response.status_code == 403
    assert viewer.post("/merchants/mayor/api-key").status_code == 403
    assert viewer.post("/merchants/mayor/end", {"confirm_code": "mayor"}).status_code == 403
    assert viewer.get("/accounts").status_code == 403
    assert viewer.post("/fee-rates/new", {}).status_code == 403
    # Then: nothing changed, and the refusals are in the audit log
    assert not Merchant.objects.filter(code="kyoiku").exists()
    assert Merchant.objects.get(code="mayor").is_active
    assert Merchant.objects.get(code="mayor").api_keys.filter(revoked_at__isnull=True).count() == 1
    denied = AuditRecord.objects.filter(event="console.administrator_only", outcome="denied")
    assert denied.count() == 6
    assert "ログアウト" in viewer.get("/").content.decode()
    assert "アカウント" not in viewer.get("/dashboard").content.decode()


def test_administrator_creates_a_viewer_account(admin: Client) -> None:
    response = admin.post(
        "/accounts", {"login_id": "suzuki", "display_name": "鈴木", "role": "viewer"}
    )
    assert response.status_code == 200
    password = response.context["created"]["password"]
    account = ConsoleAccount.objects.get(login_id="suzuki")
    assert account.role == ConsoleAccount.Role.VIEWER
    assert account.check_password(password)
    assert AuditRecord.objects.filter(
        event="console_account.create", resource=account.account_key
    ).exists()
    # The new viewer's first login must first choose a password and set up the
    # second factor: nothing else is reachable until then.
    client = Client(HTTP_HOST="console.kessai.test")
    first = client.post("/login", {"login_id": "suzuki", "password": password})
    assert first.status_code == 302
    assert not first["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 302


def test_duplicate_login_id_is_refused(admin: Client) -> None:
    response = admin.post(
        "/accounts", {"login_id": "admin1", "display_name": "二人目", "role": "administrator"}
    )
    assert response.status_code == 400
    assert ConsoleAccount.objects.filter(login_id="admin1").count() == 1


def test_transaction_search_by_each_filter(merchants: list[Merchant], admin: Client) -> None:
    mayor, agri = merchants
    paid = succeed_at(make_payment(mayor, 1200, "SEARCH-0001"), AT)
    unpaid = make_payment(agri, 800, "SEARCH-0002")
    other_day = succeed_at(make_payment(agri, 500, "SEARCH-0003"), AT + datetime.timedelta(hours=1))

    def found(query: str) -> set[str]:
        response = admin.get("/?" + query)
        assert response.status_code == 200
        return {p["reference"] for p in response.context["payments"]}

    assert found("reference=SEARCH-0001") == {"SEARCH-0001"}
    assert found(f"payment_id={unpaid.public_id}") == {"SEARCH-0002"}
    assert found("status=succeeded") == {"SEARCH-0001", "SEARCH-0003"}
    assert found("method=card&status=succeeded") == {"SEARCH-0001", "SEARCH-0003"}
    assert found(f"merchant={agri.pk}") == {"SEARCH-0002", "SEARCH-0003"}
    # 23:30 JST on the 20th and 00:30 JST on the 21st: different JST days
    assert found("date_basis=paid&date_from=2026-11-20&date_to=2026-11-20") == {"SEARCH-0001"}
    assert found("date_basis=paid&date_from=2026-11-21&date_to=2026-11-21") == {"SEARCH-0003"}
    assert paid.status == other_day.status == "succeeded"


def test_search_pages_by_keyset(merchants: list[Merchant], admin: Client) -> None:
    for i in range(55):
        make_payment(merchants[0], 100 + i, f"PAGE-{i:04d}")
    first = admin.get("/")
    assert len(first.context["payments"]) == 50
    second = admin.get(f"/?before={first.context['next_before']}")
    assert len(second.context["payments"]) == 5
    assert second.context["next_before"] is None
    seen = {p["reference"] for p in first.context["payments"] + second.context["payments"]}
    assert len(seen) == 55


def test_detail_shows_timeline_and_delivery_log(merchants: list[Merchant], admin: Client) -> None:
    payment = succeed_at(make_payment(merchants[0], 3000, "DETAIL-0001"), AT)
    notification = Notification.objects.get(payment=payment)
    NotificationDelivery.objects.create(
        notification=notification, response_status=503, error="HTTP 503", duration_ms=42
    )
    page = admin.get(f"/transactions/{payment.public_id}")
    text = page.content.decode()
    assert page.status_code == 200
    assert "DETAIL-0001" in text
    assert "3,000円" in text
    assert "<td>決済完了</td>" in text  # the event timeline, in plain Japanese
    assert notification.event_id in text  # the notification
    assert "HTTP 503" in text
    assert "42 ms" in text
    assert "2026年11月20日 23:30:00" in text  # JST, as on every screen
    assert admin.get("/transactions/pay_nope").status_code == 404


def test_day_dashboard_shows_fees_and_net(merchants: list[Merchant], admin: Client) -> None:
    FeeRate.objects.create(
        method="card", effective_from=datetime.date(2026, 1, 1), percent="3.240", fixed_yen=0
    )
    succeed_at(make_payment(merchants[0], 10_000), AT)
    ledger_add(merchant_id=merchants[0].pk, method="card", at=AT, refunded_amount=1_000)
    page = admin.get("/dashboard?day=2026-11-20")
    board = page.context["board"]
    assert (board.total.succeeded_amount, board.total.refunded_amount) == (10_000, 1_000)
    assert board.total.fee == 324
    assert board.total.net == 8_676
    text = page.content.decode()
    assert "8,676円" in text
    assert "<svg" in text
    assert "<rect" in text
    assert "<polyline" in text
    assert "style=" not in text  # strict CSP: no inline styles


def test_exports_are_bom_utf8_or_shift_jis_and_audited(
    merchants: list[Merchant], admin: Client
) -> None:
    succeed_at(make_payment(merchants[0], 4321, "CSV-0001"), AT)
    response = admin.get("/exports/transactions.csv?reference=CSV-0001")
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("決済ID,加盟店,整理番号,金額,状態,決済方法")
    assert len(lines) == 2
    assert "CSV-0001,4321,決済済,クレジットカード," in lines[1]
    assert "2026-11-20 23:30:00" in lines[1]

    sjis = admin.get("/exports/daily.csv?encoding=shift_jis")
    raw = b"".join(sjis.streaming_content)  # type: ignore[attr-defined]
    assert sjis["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert not raw.startswith(b"\xef\xbb\xbf")
    daily = raw.decode("cp932").splitlines()
    assert daily[0].startswith("日付,加盟店,決済方法,決済件数,決済金額")
    assert daily[1].startswith("2026-11-20,")
    assert ",1,4321,0,0,0,4321" in daily[1]

    monthly = admin.get("/exports/monthly.csv")
    rows = b"".join(monthly.streaming_content).decode("utf-8-sig").splitlines()  # type: ignore[attr-defined]
    assert rows[1].startswith("2026-11,")

    exports = AuditRecord.objects.filter(event="export").order_by("id")
    assert [e.resource for e in exports] == [
        "transactions.csv",
        "daily-summary.csv",
        "monthly-summary.csv",
    ]
    first = exports[0]
    assert first.actor.startswith("console:")
    assert first.origin == "127.0.2.3"
    assert first.detail["reference"] == "CSV-0001"
    assert exports[1].detail["encoding"] == "shift_jis"


def test_fee_rate_added_by_administrator(admin: Client) -> None:
    response = admin.post(
        "/fee-rates/new",
        {"method": "paypay", "effective_from": "2026-04-01", "percent": "1.980", "fixed_yen": "0"},
    )
    assert response.status_code == 302
    rate = FeeRate.objects.get()
    admin_key = ConsoleAccount.objects.get(login_id="admin1").account_key
    assert (rate.method, str(rate.percent), rate.created_by) == ("paypay", "1.980", admin_key)
    # The same method and day again is refused
    again = admin.post(
        "/fee-rates/new",
        {"method": "paypay", "effective_from": "2026-04-01", "percent": "2.000", "fixed_yen": "0"},
    )
    assert again.status_code == 400
    assert FeeRate.objects.count() == 1


def test_dashboards_filter_by_merchant(merchants: list[Merchant], viewer: Client) -> None:
    mayor, agri = merchants
    succeed_at(make_payment(mayor, 1_000), AT)
    succeed_at(make_payment(agri, 2_500), AT)
    day = viewer.get(f"/dashboard?day=2026-11-20&merchant={agri.pk}").context["board"]
    month = viewer.get(f"/dashboard/month?month=2026-11&merchant={agri.pk}").context["board"]
    everyone = viewer.get("/dashboard/month?month=2026-11").context["board"]
    assert (day.total.succeeded_count, day.total.succeeded_amount) == (1, 2_500)
    assert (month.total.succeeded_count, month.total.succeeded_amount) == (1, 2_500)
    assert (everyone.total.succeeded_count, everyone.total.succeeded_amount) == (2, 3_500)
    assert [name for name, _ in everyone.merchant_rows()] == [mayor.display_name, agri.display_name]
