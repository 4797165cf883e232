"""The read-only audit screen administrators see on the staff and console
listeners (bound to each service's login in its own views module)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors import audit_recent
from .services import verify_chain


def audit_page(request: HttpRequest, *, base_template: str) -> HttpResponse:
    # No stored event or actor holds a NUL, and PostgreSQL refuses one in a
    # query parameter (a 500): dropped, like the other control characters.
    event = _printable(request.GET.get("event", ""))[:60]
    actor = _printable(request.GET.get("actor", ""))[:80]
    return render(
        request,
        "platform/audit/list.html",
        {
            "base_template": base_template,
            "account": getattr(request, "account", None),
            "records": audit_recent(event=event, actor=actor),
            "event": event,
            "actor": actor,
            "problems": verify_chain() if request.GET.get("verify") else None,
        },
    )


def _printable(value: str) -> str:
    return "".join(character for character in value if character.isprintable())
