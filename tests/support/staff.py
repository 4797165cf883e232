from typing import Any

from django.test import Client


def login(demo: dict[str, Any], login_id: str) -> Client:
    client = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == login_id)
    response = client.post("/login", {"login_id": login_id, "password": account["password"]})
    assert response.status_code == 302, response.content
    return client
