"""Structured logs: one line per request and per task, JSON in production and
plain text under ``madoguchi up`` (``MADOGUCHI_LOG_FORMAT``), with time, level,
service, surface, request id, account id (never a name), status, duration.

A request id is taken from ``X-Request-ID`` (or made), bound for the request,
sent on every call to the other service and on every notification, and
carried into the tasks that continue the request (their ``request_id``
argument), so one payment can be followed across both services' logs.

What is logged is chosen field by field: never a body, a query string or a
raw path (paths carry checkout and draft tokens): the URL *route* is logged.
"""

import re
import time
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from contextvars import Token
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes are not requests worth a line each.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

logger = structlog.get_logger("madoguchi.requests")
task_logger = structlog.get_logger("madoguchi.tasks")


def _static_fields(service: str, surface: str) -> Callable[..., MutableMapping[str, Any]]:
    def add(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        event.setdefault("surface", surface)
        return event

    return add


def _shared_processors(service: str, surface: str) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _static_fields(service, surface),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.stdlib.PositionalArgumentsFormatter(),
    ]


def logging_config(*, service: str, surface: str, fmt: str, level: str) -> dict[str, Any]:
    """Django's ``LOGGING`` with structlog's formatter for stdlib records too
    (Django's, httpx's, the task library's), so every line has one shape."""
    shared = _shared_processors(service, surface)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0)
        if fmt == "plain"
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": shared,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The request line below replaces Django's own per-request warnings.
            "django.request": {"level": "ERROR"},
            # The task line below (with the request id of the request that
            # queued it) replaces the task library's per-state lines; a
            # failure's traceback still comes through, at ERROR.
            "django.tasks": {"level": "WARNING"},
            "django_tasks_db": {"level": "WARNING"},
        },
    }


def request_id_from(value: str | None) -> str:
    """The caller's id if it is a plain token, else a new one."""
    if value and _VALID_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str:
    return str(structlog.contextvars.get_contextvars().get("request_id", ""))


def outbound_headers() -> dict[str, str]:
    """Headers for a call to the other service: the request id, if any."""
    request_id = current_request_id()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}


class RequestLogMiddleware:
    """Outermost middleware: binds the request id, answers it in
    ``X-Request-ID``, and logs one line per request when it ends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from . import metrics

        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        started = time.monotonic()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if request.path in QUIET_PATHS:
                return response
            duration = time.monotonic() - started
            surface = getattr(request, "surface", "") or "-"
            match = getattr(request, "resolver_match", None)
            route = match.route if match is not None else "<unmatched>"
            account = getattr(request, "account", None)
            metrics.observe_request(
                surface=surface,
                route=route,
                method=request.method or "",
                status=response.status_code,
                seconds=duration,
            )
            log = logger.warning if response.status_code >= 500 else logger.info
            log(
                "request",
                surface=surface,
                service=surface.split("_")[0],
                method=request.method,
                route=route,
                status=response.status_code,
                duration_ms=round(duration * 1000, 1),
                account_id=getattr(account, "account_key", None),
            )
        return response


# Tasks: bound for the task's run, logged when it finishes (django.tasks signals).
_running: dict[str, tuple[float, Mapping[str, Token[Any]]]] = {}


def task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    request_id = str(task_result.kwargs.get("request_id") or f"task-{task_result.id}")
    tokens = structlog.contextvars.bind_contextvars(
        request_id=request_id, task=task_result.task.name, task_id=str(task_result.id)
    )
    _running[str(task_result.id)] = (time.monotonic(), tokens)


def task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    started, tokens = _running.pop(str(task_result.id), (time.monotonic(), {}))
    duration = time.monotonic() - started
    failed = str(task_result.status) in ("FAILED", "TaskResultStatus.FAILED")
    errors = getattr(task_result, "errors", None) or []
    (task_logger.error if failed else task_logger.info)(
        "task",
        queue=task_result.task.queue_name,
        status=str(getattr(task_result.status, "value", task_result.status)),
        duration_ms=round(duration * 1000, 1),
        error=errors[-1].exception_class_path if errors else None,
    )
    structlog.contextvars.reset_contextvars(**tokens)


def connect_task_logging() -> None:
    from django.tasks.signals import task_finished as finished
    from django.tasks.signals import task_started as started

    started.connect(task_started, dispatch_uid="madoguchi-task-started")
    finished.connect(task_finished, dispatch_uid="madoguchi-task-finished")
