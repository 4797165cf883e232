"""Walks an operator admin site's registry: every registered model refuses a
lookup that is not one of its declared filters (a new model is covered by
registering it), and each declared filter still works."""

from typing import Any

from django.contrib.admin import AdminSite
from django.db.models import ForeignKey
from django.test import Client

from madoguchi.platform.admin import declared_lookup_fields


def _changelist(site: AdminSite, model: Any) -> str:
    return f"/ops/{model._meta.app_label}/{model._meta.model_name}/"


def forbidden_lookups(model: Any) -> list[str]:
    """A prefix probe on every stored field, and one through every foreign key."""
    lookups = []
    for field in model._meta.concrete_fields:
        lookups.append(f"{field.name}__startswith")
        if isinstance(field, ForeignKey):
            related = next(
                f.name for f in field.related_model._meta.concrete_fields if not f.primary_key
            )
            lookups.append(f"{field.name}__{related}__startswith")
    return lookups


def assert_only_declared_lookups(site: AdminSite, client: Client) -> list[str]:
    """Returns the labels of the models walked."""
    walked = []
    for model, model_admin in site._registry.items():
        url = _changelist(site, model)
        assert client.get(url).status_code == 200, url
        for lookup in forbidden_lookups(model):
            response = client.get(url, {lookup: "a"})
            assert response.status_code == 400, f"{url}?{lookup}=a answered {response.status_code}"
        for field in declared_lookup_fields(model_admin):
            response = client.get(url, {f"{field}__isnull": "False"})
            assert response.status_code == 200, f"{url}?{field}__isnull=False"
        walked.append(model._meta.label)
    return walked
