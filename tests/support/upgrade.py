"""Upgrading a running installation: accounts made before the services moved
onto ``django.contrib.auth`` (rows in the old shape, written through the
migration executor at the old state), then every migration applied."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.apps.registry import Apps
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from madoguchi.platform.otp import recovery_code_hash, totp_key_base32, totp_new_key
from tests.support.otp import totp_code, totp_step

PASSWORD = "Mukashi-no-pass-2025"
RECOVERY = "abcde-fghjk"


def old_account_fields(last_login: datetime) -> dict[str, Any]:
    secret = totp_key_base32(totp_new_key())
    return {
        "display_name": "移行 前",
        "password": make_password(PASSWORD),
        "must_change_password": False,
        "totp_secret": secret,
        # A code was used a minute ago: the upgrade keeps it used.
        "totp_last_step": totp_step() - 2,
        "recovery_codes": [recovery_code_hash(RECOVERY)],
        "last_login_at": last_login,
    }


def upgrade(app_label: str, before: str, make_rows: Callable[[Apps], None]) -> None:
    """Migrate ``app_label`` back to ``before``, make rows in that shape,
    then migrate everything forward."""
    executor = MigrationExecutor(connection)
    executor.migrate([(app_label, before)])
    make_rows(executor.loader.project_state([(app_label, before)]).apps)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def log_in_with_totp(host: str, login_id: str, secret: str) -> Client:
    client = Client(HTTP_HOST=host)
    response = client.post("/login", {"login_id": login_id, "password": PASSWORD})
    assert response["Location"] == "/login/totp"
    response = client.post("/login/totp", {"code": totp_code(secret, totp_step())})
    assert response.status_code == 302, response.content
    assert "_account_key" in client.session
    return client
