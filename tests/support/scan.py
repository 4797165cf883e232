"""Read every row of every table as text, for "this never got stored" checks."""

import re

from django.db import connection

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape(text: str) -> str:
    # JSON columns may store non-ASCII as \uXXXX; scan what they mean, too.
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def table_texts(prefix: str = "") -> dict[str, str]:
    texts: dict[str, str] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if not table.startswith(prefix):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            raw = "\n".join(repr(row) for row in cursor.fetchall())
            texts[table] = raw + "\n" + _unescape(raw.replace("\\\\u", "\\u"))
    return texts
