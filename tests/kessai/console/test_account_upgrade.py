"""Console accounts from before ``django.contrib.auth`` keep their password
hash, TOTP secret and last login through the upgrade."""

from datetime import UTC, datetime

import pytest
from django.apps.registry import Apps

from madoguchi.kessai.console.models import ConsoleAccount
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
    assert (account.password, account.totp_secret) == (fields["password"], fields["totp_secret"])
    assert account.last_login == LAST_LOGIN
    client = log_in_with_totp("console.kessai.test", "console-old", fields["totp_secret"])
    assert client.get("/").status_code == 200
