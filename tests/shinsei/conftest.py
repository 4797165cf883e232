from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from tests.support.files import use_file_dir


@pytest.fixture(autouse=True)
def file_dir(settings: Settings, tmp_path: Path) -> Path:
    """Uploaded files go to a fresh directory per test, never ./var."""
    return use_file_dir(settings, tmp_path / "files")
