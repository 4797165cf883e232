"""A web process (granian, as ``madoguchi serve`` and ``up`` start it) lets
an in-flight request finish on SIGTERM (issue #11 item 8)."""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from madoguchi.cli import LISTENERS, granian_command

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    port = free_port()
    listener = next(item for item in LISTENERS if item.surface == "simulators")
    command = granian_command(listener, port, "127.0.0.1", tmp_path)
    command[-1] = "tests.support.slow_wsgi:application"  # same server flags, a slow app
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "granian did not start"
                time.sleep(0.2)
        answers: list[bytes] = []

        def slow_request() -> None:
            url = f"http://127.0.0.1:{port}/slow"
            answers.append(urllib.request.urlopen(url, timeout=20).read())

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(1.0)  # the request is in the application now
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=25)
        assert answers == [b"done"]
        assert process.wait(timeout=25) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
