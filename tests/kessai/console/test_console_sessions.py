"""Console sessions are Django's (Kessai's own AUTH_USER_MODEL here): a
changed role ends them through the session auth hash."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from madoguchi.kessai.console.models import ConsoleAccount
from tests.conftest import console_client


@pytest.mark.django_db
def test_a_changed_role_ends_the_session(demo: dict[str, Any]) -> None:
    client = console_client(demo, "administrator")
    assert client.get("/").status_code == 200
    # Kessai's own user model (the type checker reads the combined settings).
    assert get_user_model().__name__ == ConsoleAccount.__name__

    ConsoleAccount.objects.filter(login_id="console-administrator").update(role="viewer")

    assert client.get("/")["Location"].startswith("/login")
