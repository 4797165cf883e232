"""Staff accounts from before ``django.contrib.auth`` keep their password
hash, TOTP secret, recovery codes and last login through the upgrade."""

from datetime import UTC, datetime

import pytest
from django.apps.registry import Apps
from django.test import Client

from madoguchi.shinsei.procedures.models import Agency, Department
from madoguchi.shinsei.staff.models import StaffAccount
from tests.support.otp import account_secret
from tests.support.upgrade import RECOVERY, log_in_with_totp, old_account_fields, upgrade

LAST_LOGIN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_an_old_staff_account_logs_in_after_the_upgrade_without_any_reset() -> None:
    fields = old_account_fields(LAST_LOGIN)

    def make_rows(apps: Apps) -> None:
        # Departments are not what changes: today's models make them.
        agency = Agency.objects.create(code="mayor", name="市長", staff_totp_required=True)
        department = Department.objects.create(agency=agency, code="shimin", name="市民課")
        apps.get_model("shinsei_staff", "StaffAccount").objects.create(
            login_id="staff-old", department_id=department.pk, **fields
        )

    upgrade("shinsei_staff", "0003_merge_0002_account_security_0002_staff_role", make_rows)

    account = StaffAccount.objects.get(login_id="staff-old")
    assert account.password == fields["password"]
    assert account_secret(account) == fields["totp_secret"]
    assert account.totp_devices.get().last_t == fields["totp_last_step"]
    assert account.last_login == LAST_LOGIN
    assert not account.is_superuser
    log_in_with_totp("staff.shinsei.test", "staff-old", fields["totp_secret"])
    # A recovery code made before the upgrade still works once.
    client = Client(HTTP_HOST="staff.shinsei.test")
    client.post("/login", {"login_id": "staff-old", "password": "Mukashi-no-pass-2025"})
    assert client.post("/login/totp", {"code": RECOVERY}).status_code == 302
