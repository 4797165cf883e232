"""Roles are Django groups holding permissions (platform/roles.py): the
account's role names its group, and the group's permissions decide."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from madoguchi.kessai.console.models import ConsoleAccount

pytestmark = pytest.mark.django_db


def _codenames(group: str) -> set[str]:
    return set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))


def test_each_role_is_a_group_holding_its_permissions() -> None:
    assert _codenames("console:administrator") == {"administer"}
    assert _codenames("console:viewer") == set()


def test_the_role_group_decides_what_an_account_may_do(admin: Client, viewer: Client) -> None:
    assert admin.get("/merchants/new").status_code == 200
    assert viewer.get("/merchants/new").status_code == 403
    administer = Permission.objects.get(codename="administer", content_type__model="consoleaccount")

    Group.objects.get(name="console:viewer").permissions.add(administer)
    Group.objects.get(name="console:administrator").permissions.remove(administer)

    assert viewer.get("/merchants/new").status_code == 200
    assert admin.get("/merchants/new").status_code == 403
    assert ConsoleAccount.objects.get(login_id="viewer1").has_perm("kessai_console.administer")


def test_a_permission_given_to_one_account_counts_too(viewer: Client) -> None:
    account = ConsoleAccount.objects.get(login_id="viewer1")
    account.user_permissions.add(
        Permission.objects.get(codename="administer", content_type__model="consoleaccount")
    )

    assert viewer.get("/merchants/new").status_code == 200


def test_migrate_brings_the_role_groups_back() -> None:
    Group.objects.filter(name__startswith="console:").delete()

    call_command("migrate", verbosity=0)

    assert _codenames("console:administrator") == {"administer"}
    assert _codenames("console:viewer") == set()
