"""Database triggers that make the audit table append-only: no UPDATE ever,
no DELETE of a record younger than the retention period (PCI DSS 10.5.1:
at least 12 months). Installed by migration 0002 on SQLite and PostgreSQL;
even a process with the application's database credentials cannot quietly
rewrite history. Whoever owns the database can still drop the triggers:
``verify`` (the hash chain) is what detects that."""

from django.db.backends.base.base import BaseDatabaseWrapper

RETENTION_DAYS = 366
TABLE = "platform_audit_record"

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    # Django stores UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' on SQLite, which
    # compares as text with strftime's form.
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_early_delete BEFORE DELETE ON {TABLE}
    WHEN OLD.occurred_at > strftime('%Y-%m-%d %H:%M:%f', 'now', '-{RETENTION_DAYS} days')
    BEGIN SELECT RAISE(ABORT, 'audit records are kept {RETENTION_DAYS} days'); END""",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_early_delete",
]
POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit records are append-only';
      END IF;
      IF OLD.occurred_at > now() - interval '{RETENTION_DAYS} days' THEN
        RAISE EXCEPTION 'audit records are kept {RETENTION_DAYS} days';
      END IF;
      RETURN OLD;
    END $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_guard BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_guard()""",
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_guard()",
]


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def guard_install(connection: BaseDatabaseWrapper) -> bool:
    """Install the triggers; False on a database without support for them."""
    if connection.vendor == "sqlite":
        _run(connection, SQLITE_INSTALL)
    elif connection.vendor == "postgresql":
        _run(connection, POSTGRES_INSTALL)
    else:
        return False
    return True


def guard_remove(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        _run(connection, SQLITE_REMOVE)
    elif connection.vendor == "postgresql":
        _run(connection, POSTGRES_REMOVE)
