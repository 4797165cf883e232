"""A server that accepts connections and never answers (a frozen party),
and a port where nothing listens (an unreachable one): real sockets, so the
callers' own timeouts are what is tested."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_server() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a listener that takes every connection
    and every byte sent to it, and answers nothing until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()


def unreachable_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (connection refused)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
