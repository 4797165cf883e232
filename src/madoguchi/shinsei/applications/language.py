"""Japanese by default; English when the citizen chose it (a cookie, or
``?lang=en`` on any page, which sets the cookie). The browser's
Accept-Language is deliberately ignored: a municipality's pages open in
Japanese unless someone asks otherwise."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

COOKIE = "shinsei_language"


def request_language(request: HttpRequest) -> str:
    """The language the citizen asked for (``?lang=`` or the cookie), from the
    request alone: error pages use it when a failure came before the
    middleware (nothing here needs the session or the database)."""
    language = request.GET.get("lang", "") or request.COOKIES.get(COOKIE, "")
    return language if language in dict(settings.LANGUAGES) else str(settings.LANGUAGE_CODE)


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.GET.get("lang", "")
        language = chosen or request.COOKIES.get(COOKIE, "")
        if language not in dict(settings.LANGUAGES):
            chosen, language = "", settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if chosen and chosen != request.COOKIES.get(COOKIE):
            _remember(request, response, chosen)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


def set_language(request: HttpRequest, language: str) -> HttpResponse:
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        _remember(request, response, language)
    return response


def _remember(request: HttpRequest, response: HttpResponse, language: str) -> None:
    response.set_cookie(
        COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
