"""``madoguchi up``'s preparation: databases per service, seeded once, reused."""

import json
import os
import sqlite3
import sys
from pathlib import Path

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
