"""Writes to procedures: an administrator's edits, and form versions."""

from typing import Any

from django.db import transaction

from .models import FormVersion, Procedure
from .questions import validate_questions


def form_version_current(*, procedure: Procedure, created_by: str = "") -> FormVersion:
    """The version citizens fill in now: the latest, or a new one when the
    procedure's questions, 利用目的 or privacy notice were changed since."""
    with transaction.atomic():
        # Lock the procedure so two editors never mint the same number.
        Procedure.objects.select_for_update().filter(pk=procedure.pk).first()
        latest = procedure.versions.order_by("-number").first()
        if (
            latest is not None
            and latest.questions == procedure.form_fields
            and latest.purpose == procedure.purpose
            and latest.privacy_notice == procedure.privacy_notice
        ):
            return latest
        return FormVersion.objects.create(
            procedure=procedure,
            number=(latest.number + 1) if latest else 1,
            questions=procedure.form_fields,
            purpose=procedure.purpose,
            privacy_notice=procedure.privacy_notice,
            created_by=created_by,
        )


def procedure_save(
    *, procedure: Procedure, values: dict[str, Any], questions: list[dict[str, Any]], actor: str
) -> Procedure:
    """Create or update a procedure; a change of questions makes a new version
    and leaves applications filed under the old one untouched."""
    validate_questions(questions)
    with transaction.atomic():
        for key, value in values.items():
            setattr(procedure, key, value)
        procedure.form_fields = questions
        procedure.save()
        form_version_current(procedure=procedure, created_by=actor)
    return procedure
