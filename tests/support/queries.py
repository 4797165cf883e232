"""Counting what one operation asks of the database, for the hot-path tests
(issue #10): a query added to a hot operation fails CI."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@dataclass
class Counted:
    """``queries``: statements that read or write rows. ``transactions``: the
    atomic blocks opened (inside the test's own transaction each one is a
    SAVEPOINT; in production the outermost is BEGIN … COMMIT)."""

    queries: int = 0
    transactions: int = 0
    sql: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        listing = "\n".join(f"  {statement[:160]}" for statement in self.sql)
        return f"{self.queries} queries in {self.transactions} transactions:\n{listing}"


@contextmanager
def counted() -> Iterator[Counted]:
    result = Counted()
    with CaptureQueriesContext(connection) as context:
        yield result
    for query in context.captured_queries:
        sql = str(query["sql"]).strip()
        result.sql.append(sql)
        if sql.upper().startswith("SAVEPOINT"):
            result.transactions += 1
        elif not sql.upper().startswith(_TRANSACTION_CONTROL):
            result.queries += 1
