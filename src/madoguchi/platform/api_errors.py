"""Every answer under a JSON API path is the documented error shape
``{"code", "message", "fields"}``, whatever failed: the API's own handlers
answer most errors; this middleware covers what they never see (a database
outage inside or outside a view, an unknown URL, a method not allowed), which
Django would otherwise answer with an HTML page."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import RETRY_AFTER_SECONDS, is_unavailable

logger = logging.getLogger("madoguchi.api")

_CODES = {
    400: ("bad_request", "The request could not be read."),
    403: ("forbidden", "This request is not allowed."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("request_too_large", "The request is too large."),
    503: ("service_unavailable", "The service is briefly unavailable; retry shortly."),
}
_SERVER_ERROR = ("server_error", "The request could not be processed; retry later.")


def error_body(status: int) -> dict[str, object]:
    code, message = _CODES.get(status, _SERVER_ERROR if status >= 500 else _CODES[400])
    return {"code": code, "message": message, "fields": {}}


def _json_error(status: int) -> JsonResponse:
    response = JsonResponse(error_body(status), status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class JsonApiErrorMiddleware:
    """Outermost middleware: on paths under ``MADOGUCHI_JSON_API_PREFIXES``,
    a database or cache outage becomes ``503 service_unavailable`` (with Retry-After)
    and any other error answer that is not JSON becomes the JSON shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "MADOGUCHI_JSON_API_PREFIXES", ("/api/",)))

    def _is_api(self, request: HttpRequest) -> bool:
        return request.path.startswith(self.prefixes)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            self._is_api(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            replaced = _json_error(response.status_code)
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if self._is_api(request) and is_unavailable(exception):
            logger.error(
                "unavailable for %s %s: %s", request.method, request.path, type(exception).__name__
            )
            return _json_error(503)
        return None
