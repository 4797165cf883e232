"""Uploaded files: bytes in Django's storage ``shinsei_files`` (the file
system under MADOGUCHI_VAR_DIR/shinsei-files on the embedded default, an
S3-compatible bucket through django-storages in production; see
platform/conf.py), never in the database. Every file passes the scanning
hook (SHINSEI_FILE_SCANNER, a dotted path) and is sealed with AES-256-GCM
under its own data key before it is kept."""

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from madoguchi.platform.throttle import throttle_load_limit
from madoguchi.shinsei.procedures.models import Procedure

from .models import StoredFile

# The EICAR test string: what every anti-virus product reports as a test virus.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class FileRefused(Exception):
    pass


def scan_builtin(content: bytes) -> bool:
    """The default hook: True if clean. Recognises only the EICAR test file;
    production sets SHINSEI_FILE_SCANNER to a hook that calls a real scanner
    (e.g. clamd) with the same signature."""
    return EICAR not in content


# Marked for translation here, translated where they are shown (views_public).
UPLOAD_LIMIT = gettext_noop(
    "添付できるファイルの数または合計サイズの上限に達しました。"
    "申請を送信してから、あらためてお試しください。"
)
VIRUS_FOUND = gettext_noop("ファイルからウイルスが検出されたため、受け付けできません。")


def upload_admit(*, session: SessionBase, address: str, size: int) -> None:
    """Refuse an upload past the bounds: per browser session (files not yet
    part of an application: count and total size) and per address and hour."""
    count, total = session.get("uploads", (0, 0))
    if (
        count >= settings.SHINSEI_UPLOADS_PER_SESSION
        or total + size > settings.SHINSEI_UPLOAD_BYTES_PER_SESSION
    ):
        raise FileRefused(UPLOAD_LIMIT)
    # A load limit only: without the cache the session's bounds above still
    # hold, and the citizen's application goes on.
    if not throttle_load_limit(
        f"shinsei-upload:{address}",
        limit=settings.SHINSEI_UPLOADS_PER_ADDRESS_HOUR,
        window=timedelta(hours=1),
    ):
        raise FileRefused(UPLOAD_LIMIT)
    session["uploads"] = (count + 1, total + size)


def file_storage() -> Storage:
    return storages["shinsei_files"]


def file_store(*, procedure: Procedure, question: str, upload: UploadedFile[Any]) -> dict[str, Any]:
    """Scan, seal and keep an upload; return the answer value that refers to it."""
    content = b"".join(upload.chunks())
    scanner = import_string(settings.SHINSEI_FILE_SCANNER)
    if not scanner(content):
        raise FileRefused(VIRUS_FOUND)
    stored = StoredFile(
        id=uuid.uuid4(),
        procedure=procedure,
        question=question,
        content_type=upload.content_type or "application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_name=uuid.uuid4().hex,
        scan=StoredFile.Scan.CLEAN,
        keep_until=timezone.now() + timedelta(hours=settings.SHINSEI_ORPHAN_HOURS),
    )
    stored.key_new()
    name = Path(upload.name or "file").name[:200]
    stored.name_sealed = stored.seal(name.encode(), "file-name")
    saved = file_storage().save(
        stored.storage_name, ContentFile(stored.seal(content, f"file:{stored.id}"))
    )
    stored.storage_name = saved
    stored.save(force_insert=True)
    return {"file": str(stored.id), "name": name, "size": stored.size}


def file_read(stored: StoredFile) -> bytes:
    with file_storage().open(stored.storage_name, "rb") as handle:
        sealed = handle.read()
    return stored.unseal(sealed, f"file:{stored.id}")


def file_discard(stored: StoredFile) -> None:
    """Delete the bytes and the row (and with it the file's data key)."""
    file_storage().delete(stored.storage_name)
    stored.delete()
