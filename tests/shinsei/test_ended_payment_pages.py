"""A withdrawn or rejected application whose payment was cancelled: the
citizen's pages say there is nothing to pay, show no due date, and a
withdrawal that cannot happen is refused before the confirmation page."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.shinsei.applications.language import COOKIE
from madoguchi.shinsei.applications.models import Application
from tests.support.journey import submit_application

ENDED = {
    "ja": "この申請のお支払いは取り消されました（取下げ・却下など）。お支払いの必要はありません。",
    "en": "The payment for this application has been cancelled",
}
REFUSED = {
    "ja": "受理された申請は取り下げできません。窓口にお問い合わせください。",
    "en": "An accepted application cannot be withdrawn. Please contact the department.",
}


def _in(citizen: Client, language: str) -> Client:
    citizen.cookies[COOKIE] = language
    return citizen


@pytest.mark.parametrize("language", ["ja", "en"])
def test_pay_on_a_cancelled_payment_says_nothing_is_to_be_paid(
    demo: dict[str, Any], citizen: Client, language: str
) -> None:
    application, _ = submit_application(citizen)
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.WITHDRAWN,
        payment_status=Application.PaymentStatus.CANCELLED,
        payment_due_at=timezone.now() + timedelta(days=14),
    )
    _in(citizen, language)
    status = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "支払期限" not in status
    assert "due" not in status.lower().split("<main", 1)[1]
    answer = citizen.post(f"/applications/{application.reference}/pay")
    shown = citizen.get(answer["Location"]).content.decode()
    assert ENDED[language] in shown
    assert "準備中" not in shown
    assert "being prepared" not in shown


@pytest.mark.parametrize("language", ["ja", "en"])
def test_withdrawing_an_accepted_application_is_refused_before_confirming(
    demo: dict[str, Any], citizen: Client, language: str
) -> None:
    application, _ = submit_application(citizen)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.ACCEPTED)
    _in(citizen, language)
    answer = citizen.get(f"/applications/{application.reference}/withdraw")
    assert answer.status_code == 302
    shown = citizen.get(answer["Location"]).content.decode()
    assert 'role="alert"' in shown
    assert REFUSED[language] in shown
    assert 'id="withdraw-link"' not in shown
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED
