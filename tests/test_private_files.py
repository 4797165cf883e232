"""Files holding personal data under var/ are 0600, like secrets.json: the
SQLite databases (whatever the umask) and the e-mails the file backend writes."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.db.backends.sqlite3.base import DatabaseWrapper

from madoguchi.platform.conf import database_from_url
from madoguchi.platform.private_files import PrivateFileEmailBackend


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what a shell usually has: files 0644
    yield
    os.umask(previous)


def _mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def test_a_sqlite_database_is_readable_by_its_owner_only(
    tmp_path: Path, permissive_umask: None, django_db_blocker: Any
) -> None:
    path = tmp_path / "shinsei.sqlite3"
    path.touch(mode=0o644)
    settings = {
        **database_from_url(f"sqlite:///{path}"),
        "TIME_ZONE": None,
        "CONN_HEALTH_CHECKS": False,
        "CONN_MAX_AGE": 0,
        "AUTOCOMMIT": True,
    }
    wrapper = DatabaseWrapper(settings, alias="private-check")
    try:
        with (
            django_db_blocker.unblock(),
            wrapper.cursor() as cursor,
        ):  # opening it sends connection_created
            cursor.execute("CREATE TABLE t (x text)")
            cursor.execute("INSERT INTO t VALUES ('雪ノ下 紫苑')")
        assert _mode(path) == "0o600"
        # SQLite creates the write-ahead log with the database's mode
        assert _mode(Path(f"{path}-wal")) == "0o600"
    finally:
        wrapper.close()


def test_mail_files_are_readable_by_their_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    backend = PrivateFileEmailBackend(file_path=str(tmp_path / "mail"))
    backend.send_messages(
        [EmailMessage("件名", "雪ノ下 紫苑 様", "from@example.jp", ["to@example.jp"])]
    )
    (written,) = list((tmp_path / "mail").iterdir())
    assert _mode(written) == "0o600"
    assert b"to@example.jp" in written.read_bytes()
