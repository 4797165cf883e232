"""Secrets come from the environment; ``madoguchi up`` makes its own."""

from pathlib import Path

import pytest

from madoguchi.cli import load_or_create_secrets, service_env
from madoguchi.platform.conf import secret_key_from_env


def test_without_a_secret_key_in_the_environment_a_service_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KESSAI_SECRET_KEY", raising=False)
    monkeypatch.delenv("MADOGUCHI_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="KESSAI_SECRET_KEY must be set"):
        secret_key_from_env("kessai")
    monkeypatch.setenv("KESSAI_SECRET_KEY", "from-the-environment")
    assert secret_key_from_env("kessai") == "from-the-environment"


def test_up_generates_its_secrets_once_under_var_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    first = load_or_create_secrets(tmp_path)
    again = load_or_create_secrets(tmp_path)

    assert first == again
    assert oct((tmp_path / "secrets.json").stat().st_mode & 0o777) == "0o600"
    assert len(first["shinsei_secret_key"]) >= 50
    assert first["shinsei_secret_key"] != first["kessai_secret_key"]
    (tmp_path / "other").mkdir()
    assert load_or_create_secrets(tmp_path / "other") != first  # random per installation


def test_each_service_gets_only_its_own_secret_key(tmp_path: Path) -> None:
    keys = load_or_create_secrets(tmp_path)
    shinsei = service_env("shinsei", tmp_path, 8000, "127.0.0.1", keys)
    kessai = service_env("kessai", tmp_path, 8000, "127.0.0.1", keys, tmp_path / "ca.pem")

    assert "KESSAI_SECRET_KEY" not in shinsei
    assert "SHINSEI_SECRET_KEY" not in kessai
    assert kessai["MADOGUCHI_TLS"] == "1"
    assert kessai["KESSAI_PUBLIC_URL"] == "https://127.0.0.1:8100"
    assert "MADOGUCHI_TLS" not in shinsei or shinsei["MADOGUCHI_TLS"] != "1"
