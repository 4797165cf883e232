from typing import Any

import pytest
from django.test import Client

from madoguchi.kessai.merchants.demo import seed_demo as kessai_seed_demo
from madoguchi.platform.tasks import run_ready_tasks
from madoguchi.shinsei.procedures.demo import seed_demo as shinsei_seed_demo
from madoguchi.simulators import acquirer, paypay

# Test card numbers of the acquirer sandbox (docs/test-cards.md).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"


@pytest.fixture(autouse=True)
def _fresh_acquirer() -> None:
    acquirer.STATE.results.clear()
    acquirer.STATE.refunds.clear()
    acquirer.STATE.challenges.clear()
    paypay.STATE.reset()
    acquirer.STATE.fail_next = acquirer.STATE.lose_next = 0
    return


@pytest.fixture
def demo(db: None) -> dict[str, Any]:
    """Both services seeded as ``madoguchi up`` seeds them."""
    kessai = kessai_seed_demo(shinsei_public_url="http://shinsei.test")
    assert kessai is not None
    shinsei = shinsei_seed_demo(kessai_credentials=kessai)
    assert shinsei is not None
    return {**kessai, **shinsei}


@pytest.fixture
def run_tasks() -> Any:
    return run_ready_tasks


@pytest.fixture
def citizen() -> Client:
    return Client(HTTP_HOST="shinsei.test")


@pytest.fixture
def payer() -> Client:
    """The citizen's browser on Kessai's payment page."""
    return Client(HTTP_HOST="kessai.test")


@pytest.fixture
def api_client() -> Client:
    return Client(HTTP_HOST="kessai.test")


def staff_client(demo: dict[str, Any], department_code: str) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == f"staff-{department_code}")
    response = client.post(
        "/login", {"login_id": account["login_id"], "password": account["password"]}
    )
    assert response.status_code == 302, response.content
    return client
