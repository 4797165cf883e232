"""Key rotation: every wrapped data key not yet under the current KEK is
unwrapped with its old KEK and wrapped with the current one, a batch at a
time, each row by a conditional UPDATE (a row rotated meanwhile is skipped)."""

from typing import Any

from django.db.models import Model

from madoguchi.platform.envelope import data_key_rewrap, keyring
from madoguchi.shinsei.applications.models import Application, Draft, StoredFile


def data_keys_rotate(*, batch: int = 500) -> dict[str, int]:
    ring = keyring()
    prefix = f"{ring.current}$"
    counts: dict[str, int] = {}
    model: type[Model]
    for model in (Application, StoredFile, Draft):
        rotated = 0
        while True:
            rows = list(
                model._default_manager.exclude(data_key="")
                .exclude(data_key__startswith=prefix)
                .values_list("pk", "data_key")[:batch]
            )
            if not rows:
                break
            for pk, wrapped in rows:
                matching: dict[str, Any] = {"pk": pk, "data_key": wrapped}
                rotated += model._default_manager.filter(**matching).update(
                    data_key=data_key_rewrap(wrapped, ring=ring)
                )
        counts[model._meta.db_table] = rotated
    return counts
