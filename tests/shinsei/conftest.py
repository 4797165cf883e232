from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from madoguchi.simulators import sbps as sbps_simulator
from tests.support.files import use_file_dir


@pytest.fixture(autouse=True)
def file_dir(settings: Settings, tmp_path: Path) -> Path:
    """Uploaded files go to a fresh directory per test, never ./var."""
    return use_file_dir(settings, tmp_path / "files")


@pytest.fixture(autouse=True)
def _fresh_sbps() -> None:
    """The SBPS simulator's books start empty in every test."""
    sbps_simulator.STATE.reset()


@pytest.fixture
def sbps() -> Client:
    """The citizen's browser on SBPS's pages."""
    return Client(HTTP_HOST="sbps.test")
