"""Steps of the citizen/staff/payer journey, driven through the real views
and the real HTTP contract (in-process transport)."""

import re
from typing import TYPE_CHECKING, Any

from django.test import Client

if TYPE_CHECKING:  # Kessai's own tests use pay_by_card without Shinsei installed
    from madoguchi.shinsei.applications.models import Application

ANSWERS = {
    "name": "藤沢 花子",
    "name_kana": "フジサワ ハナコ",
    "birth_date": "1990-04-01",
    "address__postal_code": "251-8601",
    "address__prefecture": "神奈川県",
    "address__line": "藤沢市朝日町1番地の1",
    "phone": "0466-25-1111",
    "email": "hanako@example.jp",
    "copies": "2",
    "purpose": "就職",
}


def fill_in(citizen: Client, slug: str, answers: dict[str, Any]) -> None:
    """Start the procedure and answer every step with ``answers``."""
    response = citizen.post(f"/procedures/{slug}/")
    assert response.status_code == 302
    location = response["Location"]
    for _ in range(20):
        if not location.startswith(f"/procedures/{slug}/steps/"):
            break
        response = citizen.post(location, answers)
        assert response.status_code == 302, response.content.decode()[:3000]
        location = response["Location"]
    assert location == f"/procedures/{slug}/check", location


def submit_application(
    citizen: Client, slug: str = "juminhyo", answers: dict[str, Any] | None = None
) -> tuple["Application", str]:
    fill_in(citizen, slug, answers or ANSWERS)
    response = citizen.post(f"/procedures/{slug}/check")
    assert response.status_code == 302
    page = citizen.get("/submitted")
    assert page.status_code == 200
    from madoguchi.shinsei.applications.models import Application

    application = Application.objects.order_by("-id").first()
    assert application is not None
    password = page.context["password"]
    return application, password


def accept(staff: Client, application: "Application") -> None:
    response = staff.post(f"/applications/{application.reference}/accept")
    assert response.status_code == 302


def open_payment_page(citizen: Client, payer: Client, application: "Application") -> str:
    """Press 支払う on Shinsei and follow the single-use link onto Kessai."""
    response = citizen.post(f"/applications/{application.reference}/pay")
    assert response.status_code == 302, response
    link = response["Location"]
    assert link.startswith("http://kessai.test/checkout/")
    response = payer.get(link.removeprefix("http://kessai.test"))
    assert response.status_code == 302
    return str(response["Location"])


def pay_by_card(payer: Client, pay_path: str, number: str, cvc: str = "123") -> Any:
    return payer.post(
        pay_path + "card",
        {
            "card_number": number,
            "exp_month": "12",
            "exp_year": "2031",
            "security_code": cvc,
        },
    )


def paid_by_card(
    demo: dict[str, Any], citizen: Client, payer: Client, run_tasks: Any, number: str
) -> "Application":
    """An application of 住民票 (2 copies, 600円) filed, accepted by 市民課 and
    paid by card with ``number``."""
    from tests.conftest import staff_client

    application, _ = submit_application(citizen)
    accept(staff_client(demo, "shimin"), application)
    run_tasks()
    pay_by_card(payer, open_payment_page(citizen, payer, application), number)
    run_tasks()
    application.refresh_from_db()
    return application


def shown_after(payer: Client, response: Any) -> str:
    """POST/redirect/GET: the payment page a POST (or a return from a
    provider) redirects to, as the citizen then sees it."""
    assert response.status_code == 302, response.status_code
    location = str(response["Location"])
    assert re.fullmatch(r"/pay/\w+/", location), location
    page = payer.get(location)
    assert page.status_code == 200
    return str(page.content.decode())
