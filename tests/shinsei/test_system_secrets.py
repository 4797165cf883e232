"""System-generated secrets (the inquiry password, draft links) are stored
as a keyed HMAC-SHA-256, not Argon2id; hashes stored before keep working."""

import hashlib
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import Application, Draft
from madoguchi.shinsei.procedures.models import Procedure
from tests.support.journey import submit_application


def test_the_inquiry_password_is_stored_as_a_keyed_hash(demo: Any, citizen: Client) -> None:
    application, password = submit_application(citizen)
    stored = Application.objects.get(pk=application.pk).inquiry_password

    assert stored.startswith("hmac_sha256$")
    assert password not in stored
    assert services.application_authenticate(reference=application.reference, password=password)
    assert (
        services.application_authenticate(reference=application.reference, password="WRONGPASS0")
        is None
    )


def test_the_key_matters_a_database_alone_cannot_check_a_guess(
    demo: Any, citizen: Client, settings: Any
) -> None:
    application, password = submit_application(citizen)
    settings.SHINSEI_SECRET_HASH_KEY = "another-key"

    assert (
        services.application_authenticate(reference=application.reference, password=password)
        is None
    )


def test_an_inquiry_password_stored_as_argon2id_still_works(demo: Any, citizen: Client) -> None:
    application, password = submit_application(citizen)
    Application.objects.filter(pk=application.pk).update(inquiry_password=make_password(password))

    found = services.application_authenticate(
        reference=application.reference, password=password.lower()
    )
    assert found is not None
    assert found.pk == application.pk


def test_draft_links_use_the_keyed_hash_and_older_links_still_open(demo: Any) -> None:
    procedure = Procedure.objects.get(slug="juminhyo")
    version = procedure.versions.order_by("-number").first()
    assert version is not None
    draft, token = services.draft_save(procedure=procedure, form_version=version, data={"data": {}})

    assert draft.token_hash != hashlib.sha256(token.encode()).hexdigest()
    assert services.draft_open(token=token) == draft

    old_token = "older-link-token"
    older = Draft(
        token_hash=hashlib.sha256(old_token.encode()).hexdigest(),
        procedure=procedure,
        form_version=version,
        expires_at=timezone.now() + timedelta(days=1),
    )
    older.key_new()
    older.data_sealed = older.seal_json({"data": {}}, "draft")
    older.save()
    assert services.draft_open(token=old_token) == older
    assert services.draft_open(token="never-issued") is None
