"""Console accounts from before ``django.contrib.auth`` keep their password
hash, TOTP secret and last login through the upgrade."""

from datetime import UTC, datetime

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from madoguchi.kessai.console.models import ConsoleAccount
from tests.support.otp import account_secret
from tests.support.upgrade import log_in_with_totp, old_account_fields, upgrade

LAST_LOGIN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_an_old_console_account_logs_in_after_the_upgrade_without_any_reset() -> None:
    fields = old_account_fields(LAST_LOGIN)

    def make_rows(apps: Apps) -> None:
        apps.get_model("kessai_console", "ConsoleAccount").objects.create(
            login_id="console-old", role="administrator", **fields
        )

    upgrade("kessai_console", "0002_account_security", make_rows)

    account = ConsoleAccount.objects.get(login_id="console-old")
    assert account.password == fields["password"]
    assert account_secret(account) == fields["totp_secret"]
    assert account.totp_devices.get().last_t == fields["totp_last_step"]
    assert account.last_login == LAST_LOGIN
    client = log_in_with_totp("console.kessai.test", "console-old", fields["totp_secret"])
    assert client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_going_back_before_the_devices_puts_the_second_factor_back_in_its_columns() -> None:
    fields = old_account_fields(LAST_LOGIN)

    def make_rows(apps: Apps) -> None:
        apps.get_model("kessai_console", "ConsoleAccount").objects.create(
            login_id="console-old", role="viewer", **fields
        )

    upgrade("kessai_console", "0002_account_security", make_rows)
    executor = MigrationExecutor(connection)
    executor.migrate([("kessai_console", "0004_otp_devices")])
    old = executor.loader.project_state([("kessai_console", "0004_otp_devices")]).apps
    row = old.get_model("kessai_console", "ConsoleAccount").objects.get(login_id="console-old")

    assert (row.totp_secret, row.totp_last_step) == (
        fields["totp_secret"],
        fields["totp_last_step"],
    )
    assert row.recovery_codes == fields["recovery_codes"]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
