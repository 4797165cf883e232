"""Styled error pages (400, 403, 404, 500) for every listener.

Each surface's URLconf names its own handlers with :func:`error_handlers`, so
a citizen who opens an unknown URL, or a status page in another browser, gets
the service's own page in their language with a way back, never Django's bare
English "Not Found". The template gets ``status`` and nothing that needs the
database, so the 500 page renders even when the database is the problem.
"""

import logging
from collections.abc import Callable, Sequence

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.urls import get_resolver, get_urlconf
from django.utils import translation
from django.views import defaults

logger = logging.getLogger(__name__)

ErrorView = Callable[..., HttpResponse]
Language = Callable[[HttpRequest], str]


def error_handlers(
    template: str,
    *,
    language: Language | None = None,
    passthrough: Sequence[str] = (),
) -> tuple[ErrorView, ErrorView, ErrorView, ErrorView]:
    """``handler400, handler403, handler404, handler500`` for one surface.

    ``language`` picks the page's language where the surface has no
    middleware for it; paths under a ``passthrough`` prefix (an API with its
    own error shape) keep Django's default handlers."""

    def page(request: HttpRequest, status: int) -> HttpResponse:
        chosen = ""
        if language is not None:
            try:
                chosen = language(request)
            except Exception:  # the error page must not fail on a broken session
                logger.exception("error page: could not choose a language")
        with translation.override(chosen or translation.get_language() or "ja"):
            try:
                response = render(request, template, {"status": status}, status=status)
            except Exception:
                logger.exception("error page %s could not be rendered", status)
                return HttpResponseServerError(
                    "エラーが発生しました。 An error occurred.", content_type="text/plain"
                )
            response["Content-Language"] = translation.get_language() or "ja"
        return response

    def passes(request: HttpRequest) -> bool:
        return any(request.path.startswith(prefix) for prefix in passthrough)

    def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
        if passes(request):
            return defaults.bad_request(request, exception)
        return page(request, 400)

    def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
        if passes(request):
            return defaults.permission_denied(request, exception)
        return page(request, 403)

    def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
        if passes(request):
            return defaults.page_not_found(request, exception)
        return page(request, 404)

    def server_error(request: HttpRequest) -> HttpResponse:
        if passes(request):
            return defaults.server_error(request)
        return page(request, 500)

    return bad_request, permission_denied, page_not_found, server_error


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a stale or missing form token gets the surface's
    own styled 403 page instead of Django's English one."""
    request.csrf_failed = True  # type: ignore[attr-defined]  # the page says "reload"
    handler: ErrorView = get_resolver(get_urlconf()).resolve_error_handler(403)
    return handler(request, PermissionDenied(reason))
