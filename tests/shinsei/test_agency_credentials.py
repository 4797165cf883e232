"""Production reads each agency's Kessai credentials from the environment."""

from typing import Any

from django.test import Client, override_settings

from madoguchi.contract.signing import sign
from madoguchi.platform.conf import agency_credentials_from_env
from madoguchi.shinsei.applications.kessai import agency_api_key, agency_notification_secrets
from madoguchi.shinsei.procedures.models import Agency


def test_environment_names_map_to_agency_codes() -> None:
    assert agency_credentials_from_env(
        {
            "SHINSEI_KESSAI_API_KEY__AGRI_COMMITTEE": "kessai_abc",
            "SHINSEI_KESSAI_NOTIFICATION_SECRETS__AGRI_COMMITTEE": "new, old",
            "SHINSEI_KESSAI_API_KEY__MAYOR": "kessai_def",
            "UNRELATED": "x",
        }
    ) == {
        "agri-committee": {"api_key": "kessai_abc", "notification_secrets": ["new", "old"]},
        "mayor": {"api_key": "kessai_def"},
    }


def test_environment_wins_over_the_stored_credentials(demo: dict[str, Any]) -> None:
    mayor = Agency.objects.get(code="mayor")
    real_key = mayor.kessai_api_key
    real_secret = mayor.kessai_notification_secrets[0]
    # The row holds stale values; the environment holds the live ones.
    Agency.objects.filter(pk=mayor.pk).update(
        kessai_api_key="kessai_stale", kessai_notification_secrets=["stale"]
    )
    mayor.refresh_from_db()
    env = {"mayor": {"api_key": real_key, "notification_secrets": [real_secret]}}
    with override_settings(SHINSEI_AGENCY_CREDENTIALS=env):
        assert agency_api_key(mayor) == real_key
        assert agency_notification_secrets(mayor) == [real_secret]
        body = b'{"id": "evt_x"}'
        response = Client(HTTP_HOST="shinsei.test").post(
            "/kessai/notifications/mayor",
            body,
            content_type="application/json",
            headers={"Kessai-Signature": sign(body, ["stale"])},
        )
        assert response.status_code == 400  # the stale stored secret no longer verifies
    assert agency_api_key(mayor) == "kessai_stale"  # without the environment: the row
