"""Rate limits of the merchant API (issue #10; issue #9 items 2 and 16): per
key and declared caller class, and per address for wrong keys."""

from typing import Any

from django.test import Client, override_settings

from madoguchi.contract.client import CLIENT_CLASS_HEADER


def get(client: Client, api_key: str, client_class: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {api_key}"}
    if client_class is not None:
        headers[CLIENT_CLASS_HEADER] = client_class
    return client.get("/api/v1/payments/pay_none", headers=headers).status_code


@override_settings(MADOGUCHI_API_RATE_PER_MINUTE=3)
def test_calls_made_for_citizens_cannot_use_up_the_workers_budget(
    demo: Any, api_client: Client
) -> None:
    key = demo["merchants"]["mayor"]["api_key"]
    assert [get(api_client, key, "interactive") for _ in range(4)] == [404, 404, 404, 429]

    assert get(api_client, key, "background") == 404
    # Another program holding the key (no class, or one Kessai does not know).
    assert [get(api_client, key), get(api_client, key, "bogus")] == [404, 404]
    assert get(api_client, key, "other") == 404  # the same budget as the two above
    assert get(api_client, key) == 429


@override_settings(MADOGUCHI_API_FAILURES_PER_MINUTE=2)
def test_wrong_keys_are_limited_per_address(demo: Any) -> None:
    guesser = Client(HTTP_HOST="kessai.test", REMOTE_ADDR="203.0.113.5")
    assert [get(guesser, "kessai_wrong") for _ in range(3)] == [401, 401, 429]

    elsewhere = Client(HTTP_HOST="kessai.test", REMOTE_ADDR="203.0.113.6")
    assert get(elsewhere, "kessai_wrong") == 401
    assert get(elsewhere, demo["merchants"]["mayor"]["api_key"]) == 404


def test_shinsei_declares_its_calls(demo: Any, citizen: Client) -> None:
    from madoguchi.shinsei.applications.kessai import kessai_client
    from madoguchi.shinsei.procedures.models import Agency

    agency = Agency.objects.get(code="mayor")
    with (
        kessai_client(agency) as background,
        kessai_client(agency, client_class="interactive") as interactive,
    ):
        assert background._http.headers[CLIENT_CLASS_HEADER] == "background"
        assert interactive._http.headers[CLIENT_CLASS_HEADER] == "interactive"
