"""A WSGI app whose answer takes a while, for the graceful-shutdown test."""

import time
from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/slow":
        time.sleep(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]
