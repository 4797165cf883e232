"""The citizen's browser through SBPS's EMV 3-D Secure page (the simulator,
in process): from the card form's post to Kessai's return."""

import re
from typing import Any
from urllib.parse import urlsplit

from django.test import Client

from .journey import pay_by_card


def through_sbps_3ds(payer: Client, response: Any, *, answer: str = "right") -> Any:
    """Follow the card form's answer to SBPS's page and back. On a challenge,
    ``answer`` is ``right`` (the one-time code shown), ``wrong`` or ``cancel``."""
    assert response.status_code == 303, response.status_code
    page_url = urlsplit(str(response["Location"]))
    assert page_url.hostname == "sbps.test", page_url
    sbps = Client(HTTP_HOST="sbps.test")
    page = sbps.get(page_url.path)
    if page.status_code == 200:  # a challenge: the one-time code
        found = re.search(r'id="otp">(\d{6})<', page.content.decode())
        assert found is not None
        data = {
            "right": {"action": "verify", "code": found.group(1)},
            "wrong": {"action": "verify", "code": "000000" if found.group(1) != "000000" else "1"},
            "cancel": {"action": "cancel"},
        }[answer]
        page = sbps.post(page_url.path, data)
    assert page.status_code == 303, page.status_code
    back = urlsplit(str(page["Location"]))
    assert back.hostname == "kessai.test", back
    return payer.get(back.path)


def pay_by_card_through_sbps(
    payer: Client, pay_path: str, number: str, *, answer: str = "right"
) -> Any:
    return through_sbps_3ds(payer, pay_by_card(payer, pay_path, number), answer=answer)
