"""Files that hold personal data are readable by their owner only (0600),
like var/secrets.json: the SQLite databases of the embedded default (and
their -wal/-shm companions, which SQLite creates with the database's mode)
and the e-mails the file backend writes under var/mail."""

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage, mailers
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
    """Django's file e-mail backend, its files created 0600, one file per
    message named after its Message-ID (``<stamp.pid.random.MARK@host>``
    becomes ``stamp.pid.random.MARK.log``), so the messages of one subject
    can be found again and deleted (``mail_spool_delete``)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            message_id = message.extra_headers.get("Message-ID", "")
            local = _UNSAFE.sub("_", message_id.strip("<>").partition("@")[0])
            # None: Django's own name (time and id) for a message without one.
            self._fname = os.path.join(self.file_path, f"{local}.log") if local else None
            sent += super().send_messages([message])
        return sent

    def open(self) -> bool:
        current: object = self.stream  # None between messages (the stubs say otherwise)
        if current is None:
            filename = self._get_filename()  # type: ignore[attr-defined]
            descriptor = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
            self.stream = os.fdopen(descriptor, "ab")  # type: ignore[assignment]
            return True
        return False


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def mail_spool_delete(*, marks: Iterable[str]) -> int:
    """Delete every message the default mailer's file spool holds whose
    Message-ID ends in one of ``marks`` (the ``idstring`` given to
    ``make_msgid``). Nothing to do where mail goes out by SMTP: the copies
    are then the mail server's and the recipient's. Returns how many went."""
    backend = mailers.default
    if not isinstance(backend, EmailBackend):
        return 0
    spool = Path(backend.file_path)
    deleted = 0
    for mark in marks:
        for path in spool.glob(f"*.{_UNSAFE.sub('_', mark)}.log"):
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
