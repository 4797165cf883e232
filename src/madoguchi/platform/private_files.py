"""Files that hold personal data are readable by their owner only (0600),
like var/secrets.json: the SQLite databases of the embedded default (and
their -wal/-shm companions, which SQLite creates with the database's mode)
and the e-mails the file backend writes under var/mail."""

import os
from pathlib import Path
from typing import Any

from django.core.mail.backends.filebased import EmailBackend

PRIVATE = 0o600


def sqlite_files_private(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: tighten a SQLite database file."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(name + suffix)
        if path.exists() and path.stat().st_mode & 0o777 != PRIVATE:
            path.chmod(PRIVATE)


class PrivateFileEmailBackend(EmailBackend):
    """Django's file e-mail backend, its files created 0600."""

    def open(self) -> bool:
        current: object = self.stream  # None between messages (the stubs say otherwise)
        if current is None:
            filename = self._get_filename()  # type: ignore[attr-defined]
            descriptor = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
            self.stream = os.fdopen(descriptor, "ab")  # type: ignore[assignment]
            return True
        return False
