"""SBPS down or slow: the citizen hears it from Shinsei, quickly. With SBPS's
payment page unreachable or frozen, 支払う stays on Shinsei's own page and
says so; with SBPS frozen right after a payment, the return answers within a
few seconds, says 確認中 rather than 未決済, offers no second payment, and
the failed check does not hold back the sweep's recheck."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application
from madoguchi.simulators import sbps as simulator
from tests.shinsei.test_sbps_link import (
    accepted_application,
    come_back,
    pay_on_sbps,
    post_purchase,
    press_pay,
    returned_result,
)
from tests.support.frozen_server import frozen_server, unreachable_url
from tests.support.outage import host_down

UNAVAILABLE = "ただいまお支払いの受付が一時的にできません。料金は請求されていません。"
CHECKING = "お支払いの結果を決済代行会社に確認しています。"
# SBPS's calls made while a citizen waits give up after 3 s (connect 2 s).
PATIENCE = 5.0


def real_network(settings: Settings, **urls: str) -> None:
    """Shinsei's calls to SBPS go over real sockets to ``urls``."""
    settings.MADOGUCHI_HTTP_TRANSPORT = ""
    for name, url in urls.items():
        setattr(settings, name, url)


def test_sbps_refusing_connections_keeps_the_citizen_on_shinsei(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    application = accepted_application(demo, citizen, run_tasks)

    with host_down("sbps.test"):
        response = citizen.post(f"/applications/{application.reference}/pay", follow=True)

    html = response.content.decode()
    assert 'id="sbps-purchase"' not in html
    assert UNAVAILABLE in html
    assert 'id="pay-button"' in html  # nothing started: 支払う again later


@pytest.mark.parametrize("sbps", ["unreachable", "frozen"])
def test_sbps_payment_page_down_answers_within_seconds(
    demo: dict[str, Any], citizen: Client, run_tasks: Any, settings: Settings, sbps: str
) -> None:
    application = accepted_application(demo, citizen, run_tasks)

    with frozen_server() as frozen:
        base = unreachable_url() if sbps == "unreachable" else frozen
        real_network(settings, SHINSEI_SBPS_PURCHASE_URL=base + "/f01/FepBuyInfoReceive.do")
        started = time.monotonic()
        response = citizen.post(f"/applications/{application.reference}/pay", follow=True)
        elapsed = time.monotonic() - started

    assert elapsed < PATIENCE
    assert UNAVAILABLE in response.content.decode()


def test_sbps_frozen_after_a_payment(
    demo: dict[str, Any],
    citizen: Client,
    sbps: Client,
    run_tasks: Any,
    settings: Settings,
) -> None:
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    simulator.STATE.notification = "drop"  # SBPS froze before its notification
    action, fields = returned_result(pay_on_sbps(sbps, page))

    with frozen_server() as frozen:
        real_network(settings, SHINSEI_SBPS_API_URL=frozen)
        started = time.monotonic()
        back = come_back(citizen, action, fields)  # the return asks SBPS: no answer
        elapsed = time.monotonic() - started
        status = citizen.get(back["Location"]).content.decode()
        again = citizen.post(f"/applications/{application.reference}/pay", follow=True)

    assert elapsed < PATIENCE
    assert "確認中" in status
    assert "未決済" not in status
    assert CHECKING in status
    assert 'id="pay-button"' not in status
    again_html = again.content.decode()
    assert 'id="sbps-purchase"' not in again_html  # no second purchase request
    assert "確認が終わるまで「支払う」はご利用になれません" in again_html
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID

    # SBPS is back. The failed check counted for the return's 30 s only: the
    # sweep's next round asks, rather than ten minutes later.
    settings.MADOGUCHI_HTTP_TRANSPORT = "tests.support.transport.InProcessTransport"
    settings.SHINSEI_SBPS_API_URL = "http://sbps.test"
    checked_at = application.payment_checked_at
    assert checked_at is not None
    Application.objects.filter(pk=application.pk).update(
        payment_checked_at=checked_at - timedelta(seconds=31)
    )
    assert services.payments_reconcile() == 1
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID


def test_a_verified_success_is_never_offered_a_second_payment(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    """SBPS answers, but its notification is late: the browser's signed copy
    says paid, and the inquiry has not confirmed it yet (SBPS's books lag)."""
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    simulator.STATE.notification = "drop"
    action, fields = returned_result(pay_on_sbps(sbps, page))
    simulator.STATE.transactions.clear()  # not yet in SBPS's inquiry

    back = come_back(citizen, action, fields)
    status = citizen.get(back["Location"]).content.decode()

    assert "確認中" in status
    assert 'id="pay-button"' not in status
    refused = citizen.post(f"/applications/{application.reference}/pay", follow=True)
    assert 'id="sbps-purchase"' not in refused.content.decode()
    # The notification arrives after all: 決済済.
    resent = Client(HTTP_HOST="sbps.test").post(
        f"/_sim/sbps/resend?order_id={application.reference}"
    )
    assert resent.json() == {"answer": "OK,"}
    final = citizen.get(f"/applications/{application.reference}/").content.decode()
    assert "決済済" in final
    assert "確認中" not in final
