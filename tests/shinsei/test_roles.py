"""Staff roles are Django groups holding permissions (platform/roles.py)."""

from typing import Any

import pytest
from django.contrib.auth.models import Group

from madoguchi.shinsei.staff.models import StaffAccount

pytestmark = pytest.mark.django_db


def test_each_staff_role_is_a_group_holding_its_permissions() -> None:
    def codenames(role: str) -> set[str]:
        group = Group.objects.get(name=f"staff:{role}")
        return set(group.permissions.values_list("codename", flat=True))

    assert codenames("staff") == set()
    assert codenames("reviewer") == {"view_agency"}
    assert codenames("administrator") == {"view_agency", "administer"}


@pytest.mark.parametrize(
    ("role", "agency_wide", "administrator"),
    [("staff", False, False), ("reviewer", True, False), ("administrator", True, True)],
)
def test_what_each_role_may_do(
    demo: Any, role: str, agency_wide: bool, administrator: bool
) -> None:
    account = StaffAccount.objects.filter(role=role).first()
    assert account is not None

    assert (account.agency_wide, account.is_administrator) == (agency_wide, administrator)
