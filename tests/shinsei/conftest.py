from pathlib import Path

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def file_dir(settings: Settings, tmp_path: Path) -> Path:
    """Uploaded files go to a fresh directory per test, never ./var."""
    settings.SHINSEI_FILE_DIR = str(tmp_path / "files")
    return tmp_path / "files"
