"""SBPS's purchase results are taken strictly: exactly the documented fields,
no blanks around a value, a hash that is a result's and not a request's,
Windows-31J text, one sale per order applied once, and an ``NG,`` that says
nothing of Shinsei's inner workings."""

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from madoguchi.sbps import link
from madoguchi.sbps.hashcode import hashcode_matches, sps_hashcode
from madoguchi.shinsei.applications.models import Application, ApplicationEvent
from madoguchi.shinsei.gateways.sbps_link.gateway import link_credentials, verified_result
from madoguchi.shinsei.gateways.sbps_link.models import SbpsResult
from madoguchi.shinsei.procedures.models import Agency
from madoguchi.simulators import sbps as simulator
from tests.shinsei.test_sbps_link import (
    accepted_application,
    pay_on_sbps,
    post_purchase,
    press_pay,
    returned_result,
)

PAGECON = "/sbps/notifications/kyoiku-iinkai"


def post_result(fields: list[tuple[str, str]], path: str = PAGECON) -> bytes:
    response = Client(HTTP_HOST="shinsei.test").post(
        path,
        urlencode(fields, encoding="cp932"),
        content_type="application/x-www-form-urlencoded",
    )
    return bytes(response.content)


def signed(values: dict[str, str]) -> list[tuple[str, str]]:
    """A result as SBPS would sign it with the agency's hash key."""
    credentials = link_credentials(Agency.objects.get(code="kyoiku-iinkai"))
    hashed = [values[name] for name in link.PURCHASE_RESULT_FIELDS]
    code = sps_hashcode(hashed, credentials.hash_key, encoding=credentials.hash_encoding)
    return [*((name, values[name]) for name in link.PURCHASE_RESULT_FIELDS), ("sps_hashcode", code)]


def paid_with_notification_lost(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> tuple[Application, list[tuple[str, str]]]:
    """A card payment on SBPS whose notification did not arrive: its result
    (as the browser brings it back) is in the test's hands."""
    application = accepted_application(demo, citizen, run_tasks)
    page = post_purchase(sbps, press_pay(citizen, application)[1])
    simulator.STATE.notification = "drop"
    _, fields = returned_result(pay_on_sbps(sbps, page))
    return application, fields


def replace(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    return [(name, values.get(name, value)) for name, value in fields]


@pytest.mark.parametrize(
    ("field", "padding"),
    [
        ("sps_hashcode", " "),
        ("sps_hashcode", "\t"),
        ("res_tracking_id", " "),
        ("res_result", " "),
        ("order_id", "  "),
    ],
)
def test_a_padded_copy_of_a_result_is_not_a_second_result(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any, field: str, padding: str
) -> None:
    application, fields = paid_with_notification_lost(demo, citizen, sbps, run_tasks)
    assert post_result(fields) == b"OK,"
    sale = verified_result(application)
    assert sale is not None
    value = dict(fields)[field]

    after = post_result(replace(fields, **{field: value + padding}))
    before = post_result(replace(fields, **{field: padding + value}))

    assert after == before == b"NG,rejected"
    assert SbpsResult.objects.filter(application=application).count() == 1
    assert verified_result(application) == sale
    assert sale.res_tracking_id == dict(fields)["res_tracking_id"]


def test_a_padded_browser_copy_records_no_tracking_id(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application, fields = paid_with_notification_lost(demo, citizen, sbps, run_tasks)
    tracking_id = dict(fields)["res_tracking_id"]

    post_result(replace(fields, res_tracking_id=tracking_id + " "), path=(
        f"/applications/{application.reference}/sbps/success"
    ))  # fmt: skip

    assert not SbpsResult.objects.filter(application=application).exists()


def test_the_purchase_request_hash_is_not_a_result_hash(
    demo: dict[str, Any], citizen: Client, run_tasks: Any
) -> None:
    """The citizen's browser sees the purchase request and its hash. SBPS
    joins values without separators, so the request's text can be cut into
    a result's fields (the four URLs into ``free1``) under the same hash."""
    application = accepted_application(demo, citizen, run_tasks)
    _, request_fields = press_pay(citizen, application)
    request = dict(request_fields)
    result = {name: request.get(name, "") for name in link.PURCHASE_RESULT_FIELDS}
    result["free1"] = "".join(
        request[name] for name in ("success_url", "cancel_url", "error_url", "pagecon_url")
    )
    forged = [*((name, result[name]) for name in link.PURCHASE_RESULT_FIELDS)]
    forged.append(("sps_hashcode", request["sps_hashcode"]))
    # The same text under the same key: the hash alone cannot tell them apart.
    credentials = link_credentials(Agency.objects.get(code="kyoiku-iinkai"))
    assert hashcode_matches(
        [result[name] for name in link.PURCHASE_RESULT_FIELDS],
        credentials.hash_key,
        request["sps_hashcode"],
        encoding=credentials.hash_encoding,
    )

    assert post_result(forged) == b"NG,rejected"
    assert not SbpsResult.objects.filter(application=application).exists()
    assert not ApplicationEvent.objects.filter(
        application=application, type="payment_declined"
    ).exists()


@pytest.mark.parametrize("field", ["unknown", "missing"])
def test_a_result_with_another_field_set_is_refused(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any, field: str
) -> None:
    application, fields = paid_with_notification_lost(demo, citizen, sbps, run_tasks)
    if field == "unknown":
        changed = [*fields, ("success_url", "")]  # empty: the hash is the same
    else:
        changed = [(name, value) for name, value in fields if name != "free3"]  # it is empty

    assert post_result(changed) == b"NG,rejected"
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID
    assert post_result(fields) == b"OK,"


@pytest.mark.parametrize("text", ["①", "髙橋", "㈱", "ﾃｽﾄ～"])
def test_a_genuine_result_with_windows_31j_characters_is_accepted(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any, text: str
) -> None:
    application, fields = paid_with_notification_lost(demo, citizen, sbps, run_tasks)
    values = dict(fields)
    values["free2"] = text  # SBPS echoes the merchant's free text

    assert post_result(signed(values)) == b"OK,"
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.PAID


def test_a_second_sale_for_the_same_order_is_not_the_sale(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application, fields = paid_with_notification_lost(demo, citizen, sbps, run_tasks)
    assert post_result(fields) == b"OK,"
    sale = verified_result(application)
    values = dict(fields)
    resent = {**values, "res_date": "20300101000000"}  # the same sale, stamped anew
    other = {**values, "res_tracking_id": "99999999999999"}

    assert post_result(signed(resent)) == b"OK,"
    assert post_result(signed(other)) == b"OK,"  # answered, so SBPS stops resending

    assert SbpsResult.objects.filter(application=application).count() == 1
    assert verified_result(application) == sale
    [event] = ApplicationEvent.objects.filter(application=application, type="sbps_second_sale")
    assert event.detail["tracking_id"] == "99999999999999"
    assert ApplicationEvent.objects.filter(application=application, type="paid").count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"order_id=x",
        b"amount=%82",  # not Windows-31J
        b"\xff\xfe",  # not even ASCII
        b"order_id=A&order_id=B",
    ],
)
def test_ng_names_nothing_of_shinsei(db: None, body: bytes) -> None:
    response = Client(HTTP_HOST="shinsei.test").post(
        PAGECON, body, content_type="application/x-www-form-urlencoded"
    )

    assert response.content == b"NG,rejected"


def test_ng_for_a_wrong_hash_or_an_unknown_agency_names_nothing(
    demo: dict[str, Any], citizen: Client, sbps: Client, run_tasks: Any
) -> None:
    application, fields = paid_with_notification_lost(demo, citizen, sbps, run_tasks)

    wrong = post_result(replace(fields, sps_hashcode="9" * 40))
    unknown = post_result(fields, path="/sbps/notifications/no-such-agency")
    other_order = post_result(signed({**dict(fields), "order_id": "R-0000-0000"}))

    assert wrong == unknown == other_order == b"NG,rejected"
    application.refresh_from_db()
    assert application.payment_status == Application.PaymentStatus.UNPAID
