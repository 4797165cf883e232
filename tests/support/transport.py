"""An httpx transport that delivers requests to this process's Django
handler, choosing the surface by the URL's host (see tests/settings.py)."""

from collections.abc import Callable

import httpx
from django.test import Client
from django.urls import get_urlconf, set_urlconf
from django.utils import translation


class InProcessTransport(httpx.BaseTransport):
    # Tests can make a host unreachable: {"kessai.test": httpx.ConnectError}.
    outages: dict[str, Callable[[httpx.Request], Exception]] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.outages:
            raise self.outages[host](request)
        client = Client(HTTP_HOST=host, raise_request_exception=True)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "content-type")
        }
        path = request.url.raw_path.decode()
        # A nested request resets the thread's URLconf when it ends; the
        # calling request (if any) must get its own back.
        calling_urlconf = get_urlconf()
        calling_language = translation.get_language()
        try:
            response = client.generic(
                request.method,
                path,
                data=request.read(),
                content_type=request.headers.get("content-type", "application/octet-stream"),
                headers=headers,
            )
        finally:
            set_urlconf(calling_urlconf)
            translation.activate(calling_language)
        return httpx.Response(
            status_code=response.status_code,
            headers=dict(response.items()),
            content=response.content,
            request=request,
        )
