"""Throwaway Redis and PostgreSQL servers that a test starts, stops mid-test
and removes: outages are rehearsed on these, never on the shared servers."""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing")
    pytest.skip(f"{what} is not installed")


class RedisServer:
    """``redis-server`` on a free port, without persistence (as the shared
    one runs): ``stop()`` and ``start()`` are an outage and a restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        _missing("redis-server")
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PostgresCluster:
    """A cluster of its own under ``directory`` on a free port (trust auth).
    ``stop()`` ends every backend the way a failover does (the server shuts
    down fast: "terminating connection due to administrator command") and
    then refuses connections until ``start()``."""

    def __init__(self, directory: Path, bin_dir: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.bin = bin_dir
        self.port = free_port()
        # initdb and postgres refuse to run as root: run them as postgres.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str) -> None:
        subprocess.run(  # noqa: S603
            [*self.as_user, *command], check=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT, cwd=self.directory,
        )  # fmt: skip

    def init(self) -> None:
        if self.as_user:
            shutil.chown(self.directory, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                  "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.directory / "server.log"), "-o", options, "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Under a temporary folder of its own (pytest's are root's only, and
    the server runs as postgres), removed afterwards."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        _missing("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
        raise AssertionError("unreachable")
    directory = Path(tempfile.mkdtemp(prefix="madoguchi-pg-"))
    cluster = PostgresCluster(directory, bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
