"""Save and return to a draft; emails at every step; payment at submission;
payment reconciliation and the publication window."""

from datetime import timedelta
from typing import Any

from django.core import mail
from django.test import Client
from django.utils import timezone

from madoguchi.kessai.payments.models import Payment
from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application, Draft
from madoguchi.shinsei.procedures.models import Procedure
from tests.conftest import CARD_OK, staff_client
from tests.support.journey import (
    ANSWERS,
    accept,
    open_payment_page,
    pay_by_card,
    submit_application,
)


def test_draft_saved_and_resumed_in_another_browser(demo: dict[str, Any], citizen: Client) -> None:
    # Given a citizen who answered step 1 and saves
    citizen.post("/procedures/juminhyo/")
    response = citizen.post("/procedures/juminhyo/steps/1", {**ANSWERS, "save": "1"})
    assert response["Location"] == "/drafts/saved"
    saved = citizen.get("/drafts/saved")
    link = saved.context["url"]
    assert link.startswith("http://shinsei.test/drafts/")
    token = link.rsplit("/", 1)[1]
    draft = Draft.objects.get()
    assert token not in draft.token_hash  # only a hash of the secret is stored
    # When they open the link later on another device
    phone = Client(HTTP_HOST="shinsei.test")
    resumed = phone.get(link.removeprefix("http://shinsei.test"))
    # Then they continue where they stopped, with every answer kept
    assert resumed["Location"] == "/procedures/juminhyo/check"
    assert phone.get(resumed["Location"])["Location"] == "/procedures/juminhyo/steps/2"
    step1 = phone.get("/procedures/juminhyo/steps/1").content.decode()
    assert 'value="藤沢 花子"' in step1
    assert phone.post("/procedures/juminhyo/steps/2", ANSWERS)["Location"] == (
        "/procedures/juminhyo/check"
    )
    phone.post("/procedures/juminhyo/check")
    assert Application.objects.get().answers["name"] == "藤沢 花子"
    assert not Draft.objects.exists()  # used up by the submission
    assert phone.get(link.removeprefix("http://shinsei.test")).status_code == 404


def test_an_expired_draft_link_shows_a_clear_page(demo: dict[str, Any], citizen: Client) -> None:
    citizen.post("/procedures/juminhyo/")
    citizen.post("/procedures/juminhyo/steps/1", {**ANSWERS, "save": "1"})
    link = citizen.get("/drafts/saved").context["url"].removeprefix("http://shinsei.test")
    Draft.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client(HTTP_HOST="shinsei.test").get(link)
    assert response.status_code == 404
    assert "保存された入力内容が見つかりません" in response.content.decode()


def test_emails_for_every_step_of_a_paid_application(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    application, _ = submit_application(citizen)
    staff = staff_client(demo, "shimin")
    accept(staff, application)
    run_tasks()
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    run_tasks()
    staff.post(f"/applications/{application.reference}/complete")
    run_tasks()
    assert [m.subject for m in mail.outbox] == [
        "【住民票の写しの交付申請】申請を受け付けました",
        "【住民票の写しの交付申請】申請を受理しました",
        "【住民票の写しの交付申請】手数料のお支払いを確認しました",
        "【住民票の写しの交付申請】申請の処理が完了しました",
    ]
    assert {tuple(m.to) for m in mail.outbox} == {("hanako@example.jp",)}
    assert application.reference in mail.outbox[2].body
    assert "600円" in mail.outbox[2].body
    # Retried tasks never mail twice.
    assert all(row.sent_at is not None for row in application.mails.all())
    from madoguchi.shinsei.applications.emails import citizen_mail_send

    assert citizen_mail_send(mail_id=application.mails.first().pk) is False  # type: ignore[union-attr]
    assert len(mail.outbox) == 4


def test_no_email_address_no_email(demo: dict[str, Any], citizen: Client, run_tasks: Any) -> None:
    submit_application(citizen, answers={**ANSWERS, "email": ""})
    run_tasks()
    assert mail.outbox == []


def test_payment_at_submission(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    Procedure.objects.filter(slug="inkan").update(payment_timing="at_submission")
    application, _ = submit_application(citizen, "inkan")
    assert (application.status, application.payment_status) == ("submitted", "preparing")
    assert application.payment_due_at is not None
    run_tasks()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    run_tasks()
    application.refresh_from_db()
    assert (application.status, application.payment_status) == ("submitted", "paid")
    # Acceptance then requests nothing more.
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    application.refresh_from_db()
    assert (application.status, application.payment_status) == ("accepted", "paid")
    assert Payment.objects.count() == 1


def test_reconciliation_repairs_a_lost_notification(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any
) -> None:
    # Given a paid application whose notification was lost
    from madoguchi.kessai.payments.models import Notification

    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    pay_by_card(payer, open_payment_page(citizen, payer, application), CARD_OK)
    Notification.objects.all().delete()
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").delete()
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    # When the periodic reconciliation runs
    assert services.payments_reconcile() == 1
    # Then the application is paid, and a second run right after asks nothing
    application.refresh_from_db()
    assert application.payment_status == "paid"
    assert application.payment_checked_at is not None
    assert services.payments_reconcile() == 0


def test_reconciliation_skips_recently_checked_and_survives_an_outage(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    from tests.support.outage import host_down

    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    with host_down("kessai.test"):
        assert services.payments_reconcile() == 0
    application.refresh_from_db()
    assert application.payment_status == "unpaid"
    checked = application.payment_checked_at
    assert checked is not None
    assert services.payments_reconcile() == 0  # checked moments ago: skipped
    application.refresh_from_db()
    assert application.payment_checked_at == checked


def test_publication_window(demo: dict[str, Any], citizen: Client) -> None:
    now = timezone.now()
    Procedure.objects.filter(slug="inkan").update(published_from=now + timedelta(days=1))
    Procedure.objects.filter(slug="juminhyo").update(published_until=now - timedelta(seconds=1))
    listed = citizen.get("/").content.decode()
    assert "印鑑登録証明書" not in listed
    assert "住民票の写し" not in listed
    assert citizen.get("/procedures/inkan/").status_code == 404
    assert citizen.post("/procedures/juminhyo/").status_code == 404
    assert "所得証明書" in listed
