"""Uploaded files: bytes under SHINSEI_FILE_DIR (default MADOGUCHI_VAR_DIR/
shinsei-files), never in the database; every file passes the scanning hook
(SHINSEI_FILE_SCANNER, a dotted path) before it is kept."""

import hashlib
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.module_loading import import_string

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


def file_dir() -> Path:
    return Path(settings.SHINSEI_FILE_DIR)


def file_store(*, procedure: Procedure, question: str, upload: UploadedFile[Any]) -> dict[str, Any]:
    """Scan and keep an upload; return the answer value that refers to it."""
    content = b"".join(upload.chunks())
    scanner = import_string(settings.SHINSEI_FILE_SCANNER)
    if not scanner(content):
        raise FileRefused("ファイルからウイルスが検出されたため、受け付けできません。")
    storage_name = uuid.uuid4().hex
    directory = file_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / storage_name
    path.write_bytes(content)
    path.chmod(0o600)
    stored = StoredFile.objects.create(
        procedure=procedure,
        question=question,
        original_name=Path(upload.name or "file").name[:200],
        content_type=upload.content_type or "application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_name=storage_name,
        scan=StoredFile.Scan.CLEAN,
    )
    return {"file": str(stored.id), "name": stored.original_name, "size": stored.size}


def file_read(stored: StoredFile) -> bytes:
    return (file_dir() / stored.storage_name).read_bytes()
