"""Roles: viewers read; only administrators manage merchants, accounts and rates."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import audit_record

from .models import ConsoleAccount
from .views import console_login_required

View = Callable[..., HttpResponse]


def is_administrator(request: HttpRequest) -> bool:
    account = getattr(request, "account", None)
    return isinstance(account, ConsoleAccount) and account.has_perm("kessai_console.administer")


def administrator_required(view: View) -> View:
    """Login first (``console_login_required``), then the administrator role."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_administrator(request):
            audit_record(
                actor=request.account.account_key,  # type: ignore[attr-defined]
                event="console.administrator_only",
                outcome=AuditRecord.Outcome.DENIED,
                request=request,
                resource=request.path[:120],
            )
            return render(
                request,
                "console/forbidden.html",
                {"account": getattr(request, "account", None)},
                status=403,
            )
        return view(request, *args, **kwargs)

    return console_login_required(wrapped)
