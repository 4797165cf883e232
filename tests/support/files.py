from pathlib import Path

from pytest_django.fixtures import Settings


def use_file_dir(settings: Settings, path: Path) -> Path:
    """Point Shinsei's file storage at ``path`` (the file system, as on the
    embedded default)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "shinsei_files": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(path),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
    }
    return path
