"""Backup and restore of one service: its database and its files, in one tar.

- SQLite (the embedded default): SQLite's online backup API, a consistent
  copy while the processes keep running.
- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, restored
  with ``pg_restore --clean``).
- Files: every Django storage named in ``MADOGUCHI_BACKUP_STORAGES``
  (Shinsei's ``shinsei_files``), read and written through the storage API, so
  the file system of the embedded default and an S3 bucket back up alike.

The archive holds personal data: it is written 0600, and belongs on storage
with the same protection as the database (docs/operations.md).
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import connections

DATABASE_SQLITE = "database.sqlite3"
DATABASE_PG = "database.pgdump"
MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def backup_storages() -> list[str]:
    return list(getattr(settings, "MADOGUCHI_BACKUP_STORAGES", []))


def _storage_names(storage: Storage, directory: str = "") -> Iterator[str]:
    """Every file's name in ``storage``, recursively."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{directory}/{name}" if directory else name
    for name in directories:
        yield from _storage_names(storage, f"{directory}/{name}" if directory else name)


def _storage_add(archive: tarfile.TarFile, alias: str) -> int:
    storage = storages[alias]
    count = 0
    for name in sorted(_storage_names(storage)):
        with storage.open(name, "rb") as handle:
            data = handle.read()
        info = tarfile.TarInfo(f"files/{alias}/{name}")
        info.size = len(data)
        info.mode = 0o600
        archive.addfile(info, io.BytesIO(data))
        count += 1
    return count


def _program(name: str) -> str:
    """pg_dump / pg_restore from PATH (Debian: postgresql-client), as a full path."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found (apt-get install postgresql-client)")
    return path


def _pg_environment(database: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", database["NAME"]]
    if database.get("HOST"):
        args += ["--host", database["HOST"]]
    if database.get("PORT"):
        args += ["--port", str(database["PORT"])]
    if database.get("USER"):
        args += ["--username", database["USER"]]
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    if sslmode := database.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    return args, env


def _database_dump(workdir: Path) -> str:
    connection = connections["default"]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(workdir / DATABASE_SQLITE)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return DATABASE_SQLITE
    if connection.vendor == "postgresql":
        args, env = _pg_environment(connection.settings_dict)
        subprocess.run(  # noqa: S603 - fixed program, arguments from settings
            [
                _program("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(workdir / DATABASE_PG),
                *args,
            ],
            env=env,
            check=True,
        )
        return DATABASE_PG
    raise BackupError(f"no backup for {connection.vendor}")


def backup_create(*, output: Path, service: str) -> dict[str, Any]:
    """Write the archive to ``output``; returns its manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_member = _database_dump(workdir)
        manifest = {
            "service": service,
            "created_at": datetime.now(UTC).isoformat(),
            "database": {"vendor": connections["default"].vendor, "member": database_member},
            "storages": backup_storages(),
        }
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(workdir / database_member, arcname=database_member)
            manifest["files"] = {alias: _storage_add(archive, alias) for alias in backup_storages()}
    return manifest


def _database_load(workdir: Path, manifest: dict[str, Any]) -> None:
    connection = connections["default"]
    if manifest["database"]["vendor"] != connection.vendor:
        vendor = manifest["database"]["vendor"]
        raise BackupError(f"the backup is of {vendor}, this service uses {connection.vendor}")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(workdir / DATABASE_SQLITE)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    args, env = _pg_environment(connection.settings_dict)
    connections.close_all()
    subprocess.run(  # noqa: S603 - fixed program, arguments from settings
        [
            _program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            *args,
            str(workdir / DATABASE_PG),
        ],
        env=env,
        check=True,
    )


def _files_load(workdir: Path) -> dict[str, int]:
    """Replace each storage's files with the archive's, through the storage API."""
    restored = {}
    for alias in backup_storages():
        storage = storages[alias]
        for name in list(_storage_names(storage)):
            storage.delete(name)
        source = workdir / "files" / alias
        count = 0
        for path in sorted(p for p in source.rglob("*") if p.is_file()) if source.exists() else []:
            name = path.relative_to(source).as_posix()
            saved = storage.save(name, ContentFile(path.read_bytes()))
            if saved != name:
                raise BackupError(f"{alias}: {name} came back as {saved}")
            count += 1
        restored[alias] = count
    return restored


def backup_restore(*, archive_path: Path, service: str) -> dict[str, Any]:
    """Bring back the database and the files from an archive of ``service``.
    Stop the service's processes first (docs/operations.md)."""
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive_path, "r:gz") as archive:
        workdir = Path(tmp)
        archive.extractall(workdir, filter="data")
        manifest: dict[str, Any] = json.loads((workdir / MANIFEST).read_text())
        if manifest["service"] != service:
            raise BackupError(f"this is a backup of {manifest['service']}, not {service}")
        _database_load(workdir, manifest)
        manifest["restored_files"] = _files_load(workdir)
    return manifest
