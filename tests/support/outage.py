from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from .transport import InProcessTransport


@contextmanager
def host_down(host: str) -> Iterator[None]:
    """Make ``host`` refuse connections for the duration."""

    def refuse(request: httpx.Request) -> Exception:
        return httpx.ConnectError("connection refused", request=request)

    InProcessTransport.outages[host] = refuse
    try:
        yield
    finally:
        InProcessTransport.outages.pop(host, None)
