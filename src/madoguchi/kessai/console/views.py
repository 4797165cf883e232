"""Payment administrators' console: no card data and no personal data, ever."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from madoguchi.platform.accounts import login_required

from . import selectors
from .models import ConsoleAccount

console_login_required = login_required(ConsoleAccount, "console:login")


@never_cache
@console_login_required
def payments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/payments.html",
        {
            "account": request.account,  # type: ignore[attr-defined]
            "payments": selectors.payments_recent(),
            "totals": selectors.totals_by_method(),
        },
    )
