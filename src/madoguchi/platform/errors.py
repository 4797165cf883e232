"""Styled error pages (400, 403, 404, 500, 503) for every listener.

Each surface's URLconf names its own handlers with :func:`error_handlers`, so
a citizen who opens an unknown URL, or a status page in another browser, gets
the service's own page in their language with a way back, never Django's bare
English "Not Found". The template gets ``status`` and nothing that needs the
database, so the 500 page renders even when the database is the problem.

An error that only says a dependency is away for now (the database refusing
or ending connections, as in a failover; the cache unreachable) is answered
503 "temporarily unavailable" with ``Retry-After`` instead of 500, wherever it
was raised (a view, or a middleware loading the session): the person is told
to try again shortly, and monitoring tells an outage from a bug.
"""

import logging
import sys
from collections.abc import Callable, Sequence

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.urls import get_resolver, get_urlconf
from django.utils import translation
from django.views import defaults
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# How long a client should wait before retrying after a 503.
RETRY_AFTER_SECONDS = 30


class ServiceUnavailable(Exception):
    """A dependency cannot be reached for now; answered 503 on every listener."""


def is_unavailable(exc: BaseException | None) -> bool:
    """True for an error that says "away for now", not "wrong": a refused,
    ended or timed-out database connection (psycopg's AdminShutdown and
    OperationalError, the pool's timeout, SQLite's "database is locked"), an
    unreachable cache."""
    return isinstance(exc, (ServiceUnavailable, OperationalError, InterfaceError, RedisError))


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
                if status == 503:
                    fallback = HttpResponse(
                        "ただいま利用できません。しばらくしてからお試しください。"
                        " Temporarily unavailable; please try again shortly.",
                        status=503,
                        content_type="text/plain; charset=utf-8",
                    )
                    fallback["Retry-After"] = str(RETRY_AFTER_SECONDS)
                    return fallback
                return HttpResponseServerError(
                    "エラーが発生しました。 An error occurred.", content_type="text/plain"
                )
            response["Content-Language"] = translation.get_language() or "ja"
        if status == 503:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
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
        # Django calls handler500 while handling the exception, wherever it
        # was raised: sys.exc_info() is the error being answered.
        unavailable = is_unavailable(sys.exc_info()[1])
        if passes(request):
            if unavailable:  # the API's middleware gives it the JSON shape
                response = HttpResponse(status=503, content_type="text/plain")
                response["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return response
            return defaults.server_error(request)
        return page(request, 503 if unavailable else 500)

    return bad_request, permission_denied, page_not_found, server_error


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a stale or missing form token gets the surface's
    own styled 403 page instead of Django's English one."""
    request.csrf_failed = True  # type: ignore[attr-defined]  # the page says "reload"
    handler: ErrorView = get_resolver(get_urlconf()).resolve_error_handler(403)
    return handler(request, PermissionDenied(reason))
