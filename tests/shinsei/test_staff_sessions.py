"""Staff sessions are Django's: the session auth hash covers the password,
the department and the role, so any of them changing ends every session,
whoever changed it and however."""

from typing import Any

import pytest

from madoguchi.shinsei.procedures.models import Department
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import staff_client


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["role", "department", "password"])
def test_a_changed_role_department_or_password_ends_the_session(
    demo: dict[str, Any], change: str
) -> None:
    client = staff_client(demo, "shimin")
    assert client.get("/").status_code == 200
    account = StaffAccount.objects.get(login_id="staff-shimin")
    if change == "role":
        account.role = StaffAccount.Role.REVIEWER
    elif change == "department":
        account.department = Department.objects.get(code="shiminzei")
    else:
        account.set_password("Atarashii-pass-2027")
    # Saved directly: no service ended the sessions.
    StaffAccount.objects.filter(pk=account.pk).update(
        role=account.role, department=account.department, password=account.password
    )

    assert client.get("/")["Location"].startswith("/login")
    assert "_auth_user_id" not in client.session
