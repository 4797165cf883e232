"""Rows written by hand-made SQL on the hot paths, prepared as ``save()``
prepares them.

Where one statement writes several rows (data-modifying CTEs on PostgreSQL),
the ORM cannot build it; these helpers keep the rows' values the ORM's own:
each field's ``pre_save`` (defaults, ``auto_now_add``) and
``get_db_prep_save``, so a row written here is the row ``create()`` writes.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model


class Sql(str):
    """An SQL expression among an INSERT's values (not a parameter), e.g. the
    id of a row inserted earlier in the same statement. Our own text only."""


@dataclass(frozen=True)
class InsertParts:
    """An INSERT of one model instance, in pieces: the quoted table and
    columns, the placeholders (``%s``, or a ``Sql`` expression's text) and
    the parameters for them."""

    table: str
    columns: str
    placeholders: str
    params: list[Any]

    def statement(self) -> str:
        return f"INSERT INTO {self.table} ({self.columns}) VALUES ({self.placeholders})"  # noqa: S608


def insert_parts(instance: Model, *, computed: dict[str, Sql] | None = None) -> InsertParts:
    """``instance`` (not saved) as an INSERT, without its primary key.
    ``computed``: column -> SQL expression used instead of the instance's
    value."""
    computed = computed or {}
    quote = connection.ops.quote_name
    columns, placeholders, params = [], [], []
    for field in instance._meta.concrete_fields:
        if field.primary_key:
            continue
        column = str(field.column)
        columns.append(quote(column))
        if column in computed:
            placeholders.append(str(computed[column]))
        else:
            placeholders.append("%s")
            value = field.pre_save(instance, True)
            params.append(field.get_db_prep_save(value, connection))
    return InsertParts(
        table=quote(instance._meta.db_table),
        columns=", ".join(columns),
        placeholders=", ".join(placeholders),
        params=params,
    )
