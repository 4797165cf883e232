"""``madoguchi up``'s preparation: databases per service, seeded once, reused."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from madoguchi.cli import load_or_create_secrets, prepare


def test_second_run_reuses_data_and_keeps_the_demo_accounts(tmp_path: Path) -> None:
    keys = load_or_create_secrets(tmp_path)
    first = prepare(tmp_path, 18500, "127.0.0.1", keys)
    assert first.pop("new") is True
    (tmp_path / "demo.json").write_text(json.dumps(first))
    assert {p.name for p in tmp_path.glob("*.sqlite3")} == {"shinsei.sqlite3", "kessai.sqlite3"}
    # Databases hold personal data: the owner's only, like secrets.json (issue #9, 13).
    for database in tmp_path.glob("*.sqlite3"):
        assert oct(database.stat().st_mode & 0o777) == "0o600", database
    assert keys["shinsei_data_keys"].startswith("k1:")  # Shinsei's KEK (issue #12)
    # The seed hand-over files are gone; the credentials live in demo.json only.
    assert not (tmp_path / "kessai-credentials.json").exists()

    second = prepare(tmp_path, 18500, "127.0.0.1", load_or_create_secrets(tmp_path))
    assert "new" not in second
    assert second["accounts"] == first["accounts"]
    assert load_or_create_secrets(tmp_path) == keys
    kessai = sqlite3.connect(tmp_path / "kessai.sqlite3")
    assert kessai.execute("select count(*) from kessai_merchant").fetchone()[0] == 3
    assert (
        kessai.execute("select count(*) from sqlite_master where name like 'shinsei_%'").fetchone()[
            0
        ]
        == 0
    )  # separate databases: no Shinsei table in Kessai's
    shinsei = sqlite3.connect(tmp_path / "shinsei.sqlite3")
    assert shinsei.execute("select count(*) from shinsei_procedure").fetchone()[0] == 6
    assert (
        shinsei.execute("select count(*) from sqlite_master where name like 'kessai_%'").fetchone()[
            0
        ]
        == 0
    )


def test_up_restarts_a_crashed_process_and_gives_up_after_the_limit(tmp_path: Path) -> None:
    from madoguchi.cli import RESTART_LIMIT, Child, stop_children, supervise

    marker = tmp_path / "starts"
    crashing = Child(
        "crashing",
        [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(3)"],
        dict(os.environ),
        tmp_path / "crashing.log",
    )
    steady = Child(
        "steady", [sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ),
        tmp_path / "steady.log",
    )  # fmt: skip
    crashing.start()
    steady.start()
    try:
        broken = None
        for round_ in range(RESTART_LIMIT + 1):
            assert crashing.process is not None
            crashing.process.wait(timeout=30)
            broken = supervise([crashing, steady], now=1000.0 + round_)
        assert broken is crashing
        assert marker.read_text() == "x" * (RESTART_LIMIT + 1)
        assert steady.exited() is None  # the rest of the system kept running
        # Restarts long ago do not count against the limit.
        assert supervise([crashing], now=1000.0 + 10_000) is None
    finally:
        stop_children([crashing, steady], grace=5)
    assert steady.exited() is not None


def test_an_older_var_dir_gains_a_key_encryption_key(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text(json.dumps({"shinsei_secret_key": "s"}))
    keys = load_or_create_secrets(tmp_path)
    assert keys["shinsei_data_keys"].startswith("k1:")
    assert load_or_create_secrets(tmp_path) == keys  # generated once, then kept


def _operator_env(var: Path | None) -> dict[str, str]:
    """An operator's shell: none of the settings the test run or ``up`` set."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "SHINSEI_", "KESSAI_", "MADOGUCHI_", "PROMETHEUS_"))
    }
    if var is not None:
        env["MADOGUCHI_VAR_DIR"] = str(var)
    return env


def _madoguchi(*args: str, var: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "madoguchi.cli", *args],
        env=_operator_env(var),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _scheduler_keeps_running(var: Path, cwd: Path) -> None:
    for service in ("shinsei", "kessai"):
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "madoguchi.cli", service, "scheduler"],
            env=_operator_env(var),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(timeout=4)  # still running: it found its settings
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert "Traceback" not in output, output
        assert "must be set" not in output, output


def test_management_commands_run_on_the_var_dir_of_up(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    keys = load_or_create_secrets(var)
    demo = prepare(var, 18600, "127.0.0.1", keys)
    (var / "demo.json").write_text(json.dumps(demo))
    commands = [
        ("shinsei", "backup", "--output", str(tmp_path / "shinsei.tar.gz")),
        ("kessai", "backup", "--output", str(tmp_path / "kessai.tar.gz")),
        ("shinsei", "verify"),
        ("kessai", "verify"),
        ("shinsei", "retention_run", "--dry-run"),
        ("kessai", "retention_run", "--dry-run"),
        ("shinsei", "staff_account_create", "staff-new", "--name", "新任 職員",
         "--department", "shimin"),
        ("kessai", "console_account_create", "console-new", "--name", "新任 管理者"),
        ("shinsei", "privacy_inventory"),
    ]  # fmt: skip
    outputs = {}
    for command in commands:
        done = _madoguchi(*command, var=var, cwd=tmp_path)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        outputs[command[:2]] = done.stdout
    assert (tmp_path / "shinsei.tar.gz").stat().st_size > 0
    assert (tmp_path / "kessai.tar.gz").stat().st_size > 0
    assert "dry run: 0 application(s) due" in outputs[("shinsei", "retention_run")]
    assert "initial password (shown once)" in outputs[("kessai", "console_account_create")]
    # The account is in up's own database, not in one the command made up.
    shinsei = sqlite3.connect(var / "shinsei.sqlite3")
    rows = shinsei.execute(
        "select count(*) from shinsei_staff_account where login_id = ?", ["staff-new"]
    )
    assert rows.fetchone()[0] == 1
    # The restore runs on the same var dir and brings the state of the backup back.
    done = _madoguchi(
        "shinsei", "restore", "--input", str(tmp_path / "shinsei.tar.gz"), "--yes",
        var=var, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shinsei = sqlite3.connect(var / "shinsei.sqlite3")
    rows = shinsei.execute(
        "select count(*) from shinsei_staff_account where login_id = ?", ["staff-new"]
    )
    assert rows.fetchone()[0] == 0
    _scheduler_keeps_running(var, tmp_path)


def test_a_command_without_a_var_dir_or_settings_says_what_it_needs(tmp_path: Path) -> None:
    for service in ("shinsei", "kessai"):
        done = _madoguchi(service, "backup", "--output", "x.tar.gz", var=tmp_path / "nowhere",
                          cwd=tmp_path)  # fmt: skip
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert f"{service.upper()}_SECRET_KEY must be set" in done.stderr
        assert "MADOGUCHI_VAR_DIR" in done.stderr
        assert str(tmp_path / "nowhere") in done.stderr
        assert not (tmp_path / "nowhere").exists()  # and made no database anywhere
