"""Listeners ("surfaces"): one process serves one surface, e.g. Shinsei's
public site or its staff site, each with its own URLconf, so a staff URL does
not exist on the public listener at all.

``MADOGUCHI_SURFACES`` maps surface name to URLconf; ``MADOGUCHI_SURFACE`` is
the process's own. ``MADOGUCHI_SURFACE_HOSTS`` (host -> surface) lets one
process serve several surfaces by Host header; only the test settings use it.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseNotFound


def surface_for_host(host: str) -> str | None:
    hosts: dict[str, str] = getattr(settings, "MADOGUCHI_SURFACE_HOSTS", {})
    if not hosts:
        return settings.MADOGUCHI_SURFACE
    return hosts.get(host.split(":")[0])


class SurfaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        surface = surface_for_host(request.META.get("HTTP_HOST", ""))
        if surface is None:
            return HttpResponseNotFound("unknown host")
        request.surface = surface  # type: ignore[attr-defined]
        request.urlconf = settings.MADOGUCHI_SURFACES[surface]
        return self.get_response(request)
