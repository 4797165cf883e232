"""Payment administrators' console: no card data and no personal data, ever."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from madoguchi.platform.accounts import login_required, session_login, session_logout
from madoguchi.platform.audit.models import AuditRecord
from madoguchi.platform.audit.services import audit_record

from .models import ConsoleAccount

console_login_required = login_required(ConsoleAccount, "console:login")


@never_cache
@sensitive_post_parameters("password")
def login(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        account = ConsoleAccount.objects.filter(
            login_id=request.POST.get("login_id", ""), is_active=True
        ).first()
        if account and account.check_password(request.POST.get("password", "")):
            session_login(request, account)
            audit_record(actor=account.account_key, event="login", request=request)
            return HttpResponseRedirect(reverse("console:payments"))
        audit_record(
            actor=f"console-login:{request.POST.get('login_id', '')[:40]}",
            event="login",
            outcome=AuditRecord.Outcome.FAILURE,
            request=request,
        )
        error = "ログインIDまたはパスワードが正しくありません。"
    return render(request, "console/login.html", {"error": error}, status=401 if error else 200)


def logout(request: HttpRequest) -> HttpResponse:
    session_logout(request)
    return HttpResponseRedirect(reverse("console:login"))
