"""The authorization matrix (issue #6, ASVS V4): every URL pattern of every
listener, requested as every role, answers as written here. A URL pattern
that is not in the matrix fails the test: whoever adds a URL decides, here,
who may use it.

The target is application A (市民課, agency 市長), its uploaded file and its
Kessai payment. Roles: anonymous; a citizen holding *another* application's
password; staff of another department (市民税課, same agency); a console
viewer; a console administrator; a merchant with another agency's API key;
and, as positive controls that prove the requests reach the views, A's own
citizen, A's department, the agency's reviewer (sees every department of
市長), the agency's administrator (also manages procedures and departments,
and reads the audit log) and A's merchant.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from pytest_django.fixtures import Settings

from madoguchi.kessai.history.models import DeletionReport
from madoguchi.shinsei.applications.files import file_store
from madoguchi.shinsei.applications.models import Application, RefundRequest, StoredFile
from madoguchi.shinsei.privacy.services import retention_sweep
from madoguchi.shinsei.staff.models import StaffAccount
from tests.conftest import console_client, login, staff_client
from tests.support.files import use_file_dir
from tests.support.journey import submit_application

pytestmark = pytest.mark.django_db

HOSTS = {
    "shinsei_public": "shinsei.test",
    "shinsei_staff": "staff.shinsei.test",
    "kessai_public": "kessai.test",
    "kessai_console": "console.kessai.test",
}
URLCONFS = {
    "shinsei_public": "madoguchi.shinsei.urls_public",
    "shinsei_staff": "madoguchi.shinsei.urls_staff",
    "kessai_public": "madoguchi.kessai.urls_public",
    "kessai_console": "madoguchi.kessai.urls_console",
}
ROLES = [
    "anonymous",
    "citizen_other",
    "staff_other",
    "console_viewer",
    "console_admin",
    "merchant_other",
    # positive controls
    "citizen_owner",
    "staff_owner",
    "staff_reviewer",
    "staff_admin",
    "merchant_owner",
]


def url_patterns(urlconf: str) -> list[str]:
    """Every route of a URLconf, resolvers expanded, e.g.
    ``applications/<str:reference>/accept``."""
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.append(prefix + str(p.pattern))

    walk(get_resolver(urlconf).url_patterns, "")
    return routes


# (surface, route) -> [(method, {role: status})]; "*" is every role not named.
# Refusals: 302 to the login page; 404 for a resource that is not yours (it
# does not exist for you); 401 without a valid API key; 403 for a role that
# may not. Logout comes last in each listener (it ends the role's session).
Expect = dict[str, int]
Checks = list[tuple[str, Expect]]
OPEN: Expect = {"*": 200}
STAFF_LOGIN = "/login"
# Staff who may see application A: its department, and the agency-wide roles.
A_STAFF = ("staff_owner", "staff_reviewer", "staff_admin")


def staff_all(status: int) -> Expect:
    """Every logged-in staff member gets ``status``; everyone else the login."""
    return {"*": 302, "staff_other": status, **dict.fromkeys(A_STAFF, status)}


def staff_of_a(status: int) -> Expect:
    """A's staff get ``status``; another department's get 404 (A does not
    exist for them); everyone else the login page."""
    return {"*": 302, "staff_other": 404, **dict.fromkeys(A_STAFF, status)}


def only_staff_admin(status: int) -> Expect:
    """Staff administrators get ``status``; other staff roles 403."""
    return {**staff_all(403), "staff_admin": status}


ONLY_STAFF: Expect = staff_all(200)
ONLY_CONSOLE: Expect = {"*": 302, "console_viewer": 200, "console_admin": 200}


def only_console_admin(status: int) -> Expect:
    """Console administrators get ``status``; viewers 403 (and it is audited)."""
    return {"*": 302, "console_viewer": 403, "console_admin": status}


CONSOLE_PASSWORD_FORM: Expect = {"*": 302, "console_viewer": 400, "console_admin": 400}
STAFF_PASSWORD_FORM: Expect = staff_all(400)
NO_LOGIN_UNDER_WAY: Expect = {"*": 302}  # TOTP pages need a login under way
ONLY_CITIZEN_OWNER_PAGE: Expect = {"*": 404, "citizen_owner": 200}
API_LIST: Expect = {"*": 401, "merchant_other": 200, "merchant_owner": 200}

MATRIX: dict[tuple[str, str], Checks] = {
    # Shinsei public: citizens. Application pages only for whoever proved the password.
    ("shinsei_public", ""): [("GET", OPEN)],
    # Starting (POST) opens a fresh form in this browser's session, to step 1;
    # the step pages below use it: an empty answer is a 400 with the errors,
    # and the check page sends back to the first unanswered step.
    ("shinsei_public", "procedures/<slug:slug>/"): [("GET", OPEN), ("POST", {"*": 302})],
    ("shinsei_public", "procedures/<slug:slug>/steps/<int:number>"): [
        ("GET", OPEN),
        ("POST", {"*": 400}),
    ],
    ("shinsei_public", "procedures/<slug:slug>/check"): [("GET", {"*": 302}), ("POST", {"*": 302})],
    # 利用目的 and the privacy notice: public, current and per form version.
    ("shinsei_public", "procedures/<slug:slug>/privacy"): [("GET", OPEN)],
    ("shinsei_public", "procedures/<slug:slug>/privacy/<int:number>"): [("GET", OPEN)],
    # A draft link is its own credential (a secret token); a wrong one is 404.
    ("shinsei_public", "drafts/<str:token>"): [("GET", {"*": 404})],
    # Only right after saving a draft in this session; otherwise to the list.
    ("shinsei_public", "drafts/saved"): [("GET", {"*": 302})],
    ("shinsei_public", "submitted"): [("GET", {"*": 302})],
    ("shinsei_public", "inquiry"): [("GET", OPEN), ("POST", {"*": 400})],
    ("shinsei_public", "applications/<str:reference>/"): [("GET", ONLY_CITIZEN_OWNER_PAGE)],
    # A is accepted, so the owner's withdrawal (its confirmation page too)
    # and correction are refused with a message on the status page (302),
    # and nothing changes.
    ("shinsei_public", "applications/<str:reference>/withdraw"): [
        ("GET", {"*": 404, "citizen_owner": 302}),
        ("POST", {"*": 404, "citizen_owner": 302}),
    ],
    ("shinsei_public", "applications/<str:reference>/correct"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    ("shinsei_public", "applications/<str:reference>/pay"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    # Refreshes the status, then sends strangers to the inquiry form.
    ("shinsei_public", "applications/<str:reference>/payment-return"): [("GET", {"*": 302})],
    # The acceptance email's link: the owner to 支払う on the status page,
    # anyone else to the inquiry form (no call to Kessai either way).
    ("shinsei_public", "applications/<str:reference>/payment"): [("GET", {"*": 302})],
    # The browser back from SBPS's page (posted from SBPS's origin): records a
    # result only if its hash verifies, then the same GET return as above.
    ("shinsei_public", "applications/<str:reference>/sbps/<str:outcome>"): [
        ("GET", {"*": 303}),
        ("POST", {"*": 303}),
    ],
    # SBPS's 購入結果通知: answered 200 with "NG,<reason>" unless its hash verifies.
    ("shinsei_public", "sbps/notifications/<slug:agency_code>"): [
        ("POST", {"*": 200}),
        ("GET", {"*": 405}),
    ],
    # Signed by Kessai; unsigned requests are rejected.
    ("shinsei_public", "kessai/notifications/<slug:agency_code>"): [
        ("POST", {"*": 400}),
        ("GET", {"*": 405}),
    ],
    # Sets the language cookie and goes back (a same-site target only).
    ("shinsei_public", "language/<str:language>"): [("GET", {"*": 302})],
    ("shinsei_public", "healthz"): [("GET", OPEN)],
    # Shinsei staff: only staff; only their own department's applications.
    ("shinsei_staff", ""): [("GET", ONLY_STAFF)],
    ("shinsei_staff", "login"): [("GET", OPEN), ("POST", {"*": 401})],
    ("shinsei_staff", "password"): [("GET", ONLY_STAFF), ("POST", STAFF_PASSWORD_FORM)],
    ("shinsei_staff", "login/totp"): [("GET", NO_LOGIN_UNDER_WAY), ("POST", NO_LOGIN_UNDER_WAY)],
    ("shinsei_staff", "login/totp-setup"): [
        ("GET", NO_LOGIN_UNDER_WAY),
        ("POST", NO_LOGIN_UNDER_WAY),
    ],
    # The CSV of the staff member's own scope (staff_other's has no A: checked below).
    ("shinsei_staff", "export.csv"): [("GET", ONLY_STAFF), ("POST", {"*": 405})],
    ("shinsei_staff", "applications/<str:reference>/"): [("GET", staff_of_a(200))],
    # A is already accepted: the action is refused with a message, 302 back to the page.
    ("shinsei_staff", "applications/<str:reference>/accept"): [
        ("POST", staff_of_a(302)),
        ("GET", {"*": 405}),
    ],
    # An empty reason / note is a 400 form error before anything changes.
    ("shinsei_staff", "applications/<str:reference>/reject"): [
        ("POST", staff_of_a(400)),
        ("GET", {"*": 405}),
    ],
    ("shinsei_staff", "applications/<str:reference>/return"): [
        ("POST", staff_of_a(400)),
        ("GET", {"*": 405}),
    ],
    # A is unpaid: 処理完了 is refused with a message, 302 back to the page.
    ("shinsei_staff", "applications/<str:reference>/complete"): [
        ("POST", staff_of_a(302)),
        ("GET", {"*": 405}),
    ],
    ("shinsei_staff", "applications/<str:reference>/notes"): [
        ("POST", staff_of_a(400)),
        ("GET", {"*": 405}),
    ],
    # 還付 (issue #14). An empty refund request is a 400 form error. A has a
    # refund request by its department's staff (staff_owner): they may not
    # decide their own (403, nor may department staff decide any); the
    # reviewer's and administrator's decisions reach the service, which
    # refuses them with a message because A is not paid (302 back).
    ("shinsei_staff", "applications/<str:reference>/refunds"): [
        ("POST", staff_of_a(400)),
        ("GET", {"*": 405}),
    ],
    ("shinsei_staff", "applications/<str:reference>/refunds/<int:refund_id>/decline"): [
        ("POST", {**staff_of_a(302), "staff_owner": 403}),
        ("GET", {"*": 405}),
    ],
    ("shinsei_staff", "applications/<str:reference>/refunds/<int:refund_id>/approve"): [
        ("POST", {**staff_of_a(302), "staff_owner": 403}),
        ("GET", {"*": 405}),
    ],
    ("shinsei_staff", "applications/<str:reference>/files/<uuid:file_id>"): [
        ("GET", staff_of_a(200)),
        ("POST", {"*": 405}),
    ],
    # Procedure and department management: administrators of the agency only
    # (another agency's procedure is 404 for them: tests/shinsei/test_admin.py).
    # An empty POST (no fields at all) shows the form again and saves nothing.
    ("shinsei_staff", "admin/procedures/"): [
        ("GET", only_staff_admin(200)),
        ("POST", only_staff_admin(200)),  # the list again: nothing to post
    ],
    ("shinsei_staff", "admin/procedures/new"): [
        ("GET", only_staff_admin(200)),
        ("POST", only_staff_admin(200)),
    ],
    ("shinsei_staff", "admin/procedures/<int:procedure_id>/"): [
        ("GET", only_staff_admin(200)),
        ("POST", only_staff_admin(200)),
    ],
    ("shinsei_staff", "admin/departments/"): [
        ("GET", only_staff_admin(200)),
        ("POST", only_staff_admin(200)),
    ],
    # Privacy: inventory, retention reports, 開示請求 and legal holds, for
    # administrators only (an empty access request is a 400 form error).
    ("shinsei_staff", "admin/privacy/"): [("GET", only_staff_admin(200)), ("POST", {"*": 405})],
    ("shinsei_staff", "admin/privacy/access-request"): [
        ("POST", only_staff_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("shinsei_staff", "admin/privacy/reports/<int:report_id>.csv"): [
        ("GET", only_staff_admin(200)),
        ("POST", {"*": 405}),
    ],
    ("shinsei_staff", "applications/<str:reference>/hold"): [
        ("POST", only_staff_admin(302)),
        ("GET", {"*": 405}),
    ],
    # The audit log: staff administrators only.
    ("shinsei_staff", "audit"): [
        ("GET", only_staff_admin(200)),
        ("POST", {"*": 405}),
    ],
    ("shinsei_staff", "healthz"): [("GET", OPEN)],
    # Prometheus: figures only, no personal data; the office-network allowlist guards it.
    ("shinsei_staff", "metrics"): [("GET", OPEN)],
    ("shinsei_staff", "logout"): [("POST", {"*": 302})],
    # Kessai public: the merchant API by API key, each merchant its own payments.
    ("kessai_public", "api/"): [("GET", {"*": 404})],
    ("kessai_public", "api/openapi.json"): [("GET", OPEN)],
    ("kessai_public", "api/v1/payments"): [
        ("GET", API_LIST),
        ("POST", {"*": 401, "merchant_other": 422, "merchant_owner": 422}),
    ],
    ("kessai_public", "api/v1/payments/<payment_id>"): [
        ("GET", {"*": 401, "merchant_other": 404, "merchant_owner": 200})
    ],
    ("kessai_public", "api/v1/payments/<payment_id>/checkout"): [
        ("POST", {"*": 401, "merchant_other": 404, "merchant_owner": 201})
    ],
    ("kessai_public", "api/v1/payments/<payment_id>/events"): [
        ("GET", {"*": 401, "merchant_other": 404, "merchant_owner": 200})
    ],
    # A valid refund request (BODIES): another merchant's payment is 404; A's
    # own is refused with 409 because A is not paid (nothing is refunded).
    ("kessai_public", "api/v1/payments/<payment_id>/refunds"): [
        ("POST", {"*": 401, "merchant_other": 404, "merchant_owner": 409})
    ],
    # A has no Kessai refund: refund_id is Shinsei's, so the owner's answer is 404 too
    # (the refund's own positive control is in tests/kessai/test_lifecycle.py).
    ("kessai_public", "api/v1/payments/<payment_id>/refunds/<refund_id>"): [
        ("GET", {"*": 401, "merchant_other": 404, "merchant_owner": 404})
    ],
    # The payment page: only the browser that came through the single-use link.
    ("kessai_public", "checkout/<str:token>/"): [("GET", {"*": 404})],
    ("kessai_public", "pay/<str:public_id>/"): [("GET", ONLY_CITIZEN_OWNER_PAGE)],
    # Every POST redirects to the page (POST/redirect/GET), errors included.
    ("kessai_public", "pay/<str:public_id>/card"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    # 3-D Secure: with no challenge open the owner is sent back to the page.
    ("kessai_public", "pay/<str:public_id>/card/3ds"): [
        ("GET", {"*": 404, "citizen_owner": 302}),
        ("POST", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/card/3ds/cancel"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/card/return"): [
        ("GET", {"*": 404, "citizen_owner": 302}),
        ("POST", {"*": 405}),
    ],
    # PayPay, in the order a citizen goes: start (to the QR page), the QR
    # page, the polled status, back from the app, cancel (the attempt is
    # abandoned: back to the page with the message, and A is payable again).
    ("kessai_public", "pay/<str:public_id>/paypay/start"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/paypay"): [
        ("GET", {"*": 404, "citizen_owner": 200}),
        ("POST", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/paypay/status"): [
        ("GET", {"*": 404, "citizen_owner": 200}),
        ("POST", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/paypay/return"): [
        ("GET", {"*": 404, "citizen_owner": 302}),
        ("POST", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/paypay/cancel"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    # PayPay's webhook: no session, no key; the body is only a hint (the
    # outcome is read from PayPay's API), and a body that is not JSON is 400.
    ("kessai_public", "paypay/webhook"): [("POST", {"*": 400}), ("GET", {"*": 405})],
    # Apple Pay: the owner's empty requests are refused by the view itself.
    ("kessai_public", "pay/<str:public_id>/applepay/validate"): [
        ("POST", {"*": 404, "citizen_owner": 502}),
        ("GET", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/applepay/authorize"): [
        ("POST", {"*": 404, "citizen_owner": 400}),
        ("GET", {"*": 405}),
    ],
    # The demo sheet's refusal lands on the payment page (POST/redirect/GET).
    ("kessai_public", "pay/<str:public_id>/applepay/demo"): [
        ("POST", {"*": 404, "citizen_owner": 302}),
        ("GET", {"*": 405}),
    ],
    ("kessai_public", "pay/<str:public_id>/complete"): [("GET", {"*": 404, "citizen_owner": 302})],
    ("kessai_public", "pay/<str:public_id>/back"): [("GET", {"*": 404, "citizen_owner": 302})],
    # Last on this listener: the owner's cancel really cancels A.
    ("kessai_public", "api/v1/payments/<payment_id>/cancel"): [
        ("POST", {"*": 401, "merchant_other": 404, "merchant_owner": 200})
    ],
    ("kessai_public", "healthz"): [("GET", OPEN)],
    # Kessai console: viewers and administrators; the audit log administrators only.
    ("kessai_console", ""): [("GET", ONLY_CONSOLE)],
    ("kessai_console", "login"): [("GET", OPEN), ("POST", {"*": 401})],
    ("kessai_console", "password"): [("GET", ONLY_CONSOLE), ("POST", CONSOLE_PASSWORD_FORM)],
    ("kessai_console", "login/totp"): [("GET", NO_LOGIN_UNDER_WAY), ("POST", NO_LOGIN_UNDER_WAY)],
    ("kessai_console", "login/totp-setup"): [
        ("GET", NO_LOGIN_UNDER_WAY),
        ("POST", NO_LOGIN_UNDER_WAY),
    ],
    ("kessai_console", "audit"): [
        ("GET", {"*": 302, "console_viewer": 403, "console_admin": 200}),
        ("POST", {"*": 405}),
    ],
    # Reading (issue #5): every console account. Searching, A's transaction,
    # the dashboards and the CSV exports (streamed; A's reference is in the
    # transactions CSV, and the console roles may see it).
    ("kessai_console", "transactions/<str:public_id>"): [
        ("GET", ONLY_CONSOLE),
        ("POST", {"*": 405}),
    ],
    ("kessai_console", "dashboard"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "dashboard/month"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "exports"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "exports/transactions.csv"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "exports/daily.csv"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "exports/monthly.csv"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    # Merchants, deletion reports and fee rates: viewers read the lists and
    # details (no secret is on them: API key prefixes only); every page that
    # changes something is the administrators'.
    ("kessai_console", "merchants"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "merchants/<slug:code>"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    # An empty POST shows the empty form again (nothing registered).
    ("kessai_console", "merchants/new"): [
        ("GET", only_console_admin(200)),
        ("POST", only_console_admin(200)),
    ],
    # The administrator's rotations really happen (the new key or secret is
    # shown once): A's merchant key is revoked, after the merchant API rows.
    ("kessai_console", "merchants/<slug:code>/api-key"): [
        ("POST", only_console_admin(200)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "merchants/<slug:code>/secret"): [
        ("POST", only_console_admin(200)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "merchants/<slug:code>/secret/retire"): [
        ("POST", only_console_admin(302)),
        ("GET", {"*": 405}),
    ],
    # Without the typed merchant code the contract is not ended: 400.
    ("kessai_console", "merchants/<slug:code>/end"): [
        ("GET", only_console_admin(200)),
        ("POST", only_console_admin(400)),
    ],
    ("kessai_console", "reports"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "reports/<int:pk>"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "reports/<int:pk>.csv"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    # Payment operations (issue #14): administrators only, each with a reason;
    # an empty POST (no reason) is a 400 form error before anything changes.
    # The failed deliveries and the refund register are for every account.
    ("kessai_console", "transactions/<str:public_id>/cancel"): [
        ("POST", only_console_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "transactions/<str:public_id>/refund"): [
        ("POST", only_console_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "transactions/<str:public_id>/attempts/<int:attempt_id>/inquire"): [
        ("POST", only_console_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "notifications/failed"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "notifications/<int:notification_id>/resend"): [
        ("POST", only_console_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "merchants/<slug:code>/resend-given-up"): [
        ("POST", only_console_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "refunds"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "refunds.csv"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    # Console accounts: administrators only; an empty POST creates nobody (400).
    ("kessai_console", "accounts"): [
        ("GET", only_console_admin(200)),
        ("POST", only_console_admin(400)),
    ],
    ("kessai_console", "fee-rates"): [("GET", ONLY_CONSOLE), ("POST", {"*": 405})],
    ("kessai_console", "fee-rates/new"): [
        ("POST", only_console_admin(400)),
        ("GET", {"*": 405}),
    ],
    ("kessai_console", "healthz"): [("GET", OPEN)],
    ("kessai_console", "metrics"): [("GET", OPEN)],
    ("kessai_console", "logout"): [("POST", {"*": 302})],
}
# The operators' admin (Django's, read-only) on the two internal listeners:
# its routes follow from the models registered, so their entries are made
# here by shape; a route of a shape not listed fails the test.
OPS_ROLES = {
    "shinsei_staff": ("staff_admin", ("staff_owner", "staff_other", "staff_reviewer")),
    "kessai_console": ("console_admin", ("console_viewer",)),
}


def _ops_checks(route: str, allowed: str, refused_roles: tuple[str, ...]) -> Checks:
    """Not logged in here: the admin's login, which sends to the listener's
    own; logged in with another role: 403 (audited); the allowed role:
    lists and records (200), redirects to the record or to the listener's
    own password page (302), and logout only by POST (405 for GET)."""
    refused: Expect = {"*": 302, **dict.fromkeys(refused_roles, 403)}
    tail = route.removeprefix("ops/")
    if tail == "login/":
        return [("GET", {"*": 302})]
    if tail == "logout/":
        return [("GET", {**refused, allowed: 405})]
    if tail in ("password_change/", "password_change/done/") or tail.endswith("<path:object_id>/"):
        return [("GET", {**refused, allowed: 302})]
    known = tail in ("", "jsi18n/") or tail.startswith("^(?P<app_label>")
    known = known or tail.endswith(("/<path:object_id>/change/", "/<path:object_id>/history/"))
    known = known or tail.count("/") == 2  # a model's list
    assert known, f"decide who may use {route} in the authorization matrix"
    return [("GET", {**refused, allowed: 200})]


def _with_operator_admin(matrix: dict[tuple[str, str], Checks]) -> dict[tuple[str, str], Checks]:
    ops = {
        (surface, route): _ops_checks(route, *OPS_ROLES[surface])
        for surface in OPS_ROLES
        for route in url_patterns(URLCONFS[surface])
        if route.startswith("ops/")
    }
    # Logout stays last in each listener: it ends the role's session.
    logouts = {key: checks for key, checks in matrix.items() if key[1] == "logout"}
    rest = {key: checks for key, checks in matrix.items() if key[1] != "logout"}
    return {**rest, **ops, **logouts}


MATRIX = _with_operator_admin(MATRIX)

# Request bodies (JSON), where an empty request would stop at validation
# before the check that matters.
BODIES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("kessai_public", "api/v1/payments/<payment_id>/refunds", "POST"): {
        "amount": 100,
        "expected_refundable_amount": 0,
    },
}
# Where a role legitimately sees application A's reference number.
SEES_REFERENCE = {
    "citizen_owner",
    "staff_owner",
    "staff_reviewer",
    "staff_admin",
    "merchant_owner",
    "console_viewer",
    "console_admin",
}


def _browser(role: str) -> dict[str, Client]:
    """A browser keeps cookies per host; in production each listener also has
    its own cookie name. One client per listener models that."""
    return {surface: Client(HTTP_HOST=host) for surface, host in HOSTS.items()}


def _address(role: str) -> str:
    """Each role on its own machine (inside the office-network allowlist), so
    the per-address failure limits (inquiry, login) count each role apart, as
    they would for separate people."""
    return f"127.0.1.{ROLES.index(role) + 1}"


def _staff_login(demo: dict[str, Any], login_id: str) -> Client:
    """A demo staff account by login ID (reviewer-mayor, admin-mayor), logged
    in through the real pages like ``staff_client``."""
    client = Client(HTTP_HOST=HOSTS["shinsei_staff"])
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == login_id)
    login(client, login_id, account["password"])
    return client


@pytest.fixture
def world(
    demo: dict[str, Any], run_tasks: Any, settings: Settings, tmp_path: Path
) -> dict[str, Any]:
    use_file_dir(settings, tmp_path / "files")
    browsers = {role: _browser(role) for role in ROLES}
    owner = browsers["citizen_owner"]
    application, _ = submit_application(owner["shinsei_public"])
    submit_application(browsers["citizen_other"]["shinsei_public"])
    browsers["staff_owner"]["shinsei_staff"] = staff_client(demo, "shimin")
    browsers["staff_other"]["shinsei_staff"] = staff_client(demo, "shiminzei")
    browsers["staff_reviewer"]["shinsei_staff"] = _staff_login(demo, "reviewer-mayor")
    browsers["staff_admin"]["shinsei_staff"] = _staff_login(demo, "admin-mayor")
    # A file attached to A, kept through the real storage (bytes on disk).
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 matrix", "application/pdf")
    kept = file_store(procedure=application.procedure, question="receipt", upload=upload)
    StoredFile.objects.filter(id=kept["file"]).update(application=application)
    browsers["console_viewer"]["kessai_console"] = console_client(demo, "viewer")
    browsers["console_admin"]["kessai_console"] = console_client(demo, "administrator")
    browsers["staff_owner"]["shinsei_staff"].post(f"/applications/{application.reference}/accept")
    run_tasks()
    application = Application.objects.get(pk=application.pk)
    # The owner opens Kessai's payment page through the single-use link.
    link = owner["shinsei_public"].post(f"/applications/{application.reference}/pay")["Location"]
    assert owner["kessai_public"].get(link.removeprefix("http://kessai.test")).status_code == 302
    for role, agency in (("merchant_other", "agri-committee"), ("merchant_owner", "mayor")):
        key = demo["merchants"][agency]["api_key"]
        browsers[role] = {
            surface: Client(
                HTTP_HOST=host,
                HTTP_AUTHORIZATION=f"Bearer {key}",
                HTTP_IDEMPOTENCY_KEY=f"matrix-{role}",
            )
            for surface, host in HOSTS.items()
        }
    # A refund request of A by its department's staff, awaiting approval.
    refund = RefundRequest.objects.create(
        application=application,
        amount=100,
        reason="overpaid",
        requested_by=StaffAccount.objects.get(login_id="staff-shimin"),
    )
    # A deletion report (of a merchant whose contract has ended).
    report = DeletionReport.objects.create(
        kind=DeletionReport.Kind.CONTRACT_END,
        merchant_code="ended",
        merchant_name="終了した実施機関",
        performed_at=timezone.now(),
        performed_by="console:1",
        deleted={"kessai_payment": 0},
    )
    for role, clients in browsers.items():
        for client in clients.values():
            client.defaults["REMOTE_ADDR"] = _address(role)
    values = {
        "reference": application.reference,
        "slug": "juminhyo",
        "agency_code": "mayor",
        "payment_id": application.kessai_payment_id,
        "public_id": application.kessai_payment_id,
        "token": "not-a-real-link",
        "number": "1",
        "outcome": "success",
        "language": "ja",  # the default: the cookie it sets changes nothing later
        "procedure_id": str(application.procedure_id),
        "file_id": kept["file"],
        # Shinsei's refund request; on Kessai's API no refund has this id.
        "refund_id": str(refund.pk),
        "code": "mayor",  # A's merchant
        "pk": str(report.pk),
        "attempt_id": "1",
        "notification_id": "1",
        "report_id": str(retention_sweep().pk),
    }
    return {"browsers": browsers, "values": values}


def _path(route: str, values: dict[str, str]) -> str:
    import re

    if route.startswith("ops/"):
        return _ops_path(route)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route).replace(
        "{", ""
    ).replace("}", "")


def _ops_path(route: str) -> str:
    """An admin route with a real record of its model (A's application for
    Shinsei's staff listener: the first one made) or its first app label."""
    import re

    app_index = re.match(r"ops/\^\(\?P<app_label>([\w|]+)\)/\$$", route)
    if app_index:
        return f"/ops/{app_index.group(1).split('|')[0]}/"
    if "<path:object_id>" in route:
        _, app_label, model_name, *_ = route.split("/")
        model = apps.get_model(app_label, model_name)
        first = model._default_manager.order_by("pk").first()
        assert first is not None, f"the matrix's world has no {model_name}"
        route = route.replace("<path:object_id>", str(first.pk))
    return "/" + route


def test_every_url_pattern_of_every_listener_is_in_the_matrix() -> None:
    routes = {(surface, r) for surface, urlconf in URLCONFS.items() for r in url_patterns(urlconf)}
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"add these URL patterns to the authorization matrix: {missing}"
    assert not stale, f"these matrix entries no longer exist: {stale}"


def test_every_role_gets_the_expected_answer_everywhere(world: dict[str, Any]) -> None:
    surprises = []
    reference = world["values"]["reference"]
    for (surface, route), checks in MATRIX.items():
        path = _path(route, world["values"])
        for method, expect in checks:
            for role in ROLES:
                client = world["browsers"][role][surface]
                # A fresh Idempotency-Key per request: a reused one would be
                # refused before the check that matters.
                key = {"HTTP_IDEMPOTENCY_KEY": f"matrix-{role}-{method}-{route}"}
                sent = BODIES.get((surface, route, method))
                if method == "POST" and route == "login":
                    # Each role tries its own (unknown) login ID: ten failures
                    # lock an ID whoever tries it, and there are more roles.
                    response = client.post(path, {"login_id": f"matrix-{role}"})
                elif sent is not None:
                    response = client.generic(
                        method, path, json.dumps(sent), "application/json", **key
                    )
                else:
                    response = client.generic(method, path, **key)
                wanted = expect.get(role, expect.get("*"))
                if response.status_code != wanted:
                    surprises.append(
                        f"{surface} {method} {path} as {role}: "
                        f"{response.status_code}, expected {wanted}"
                    )
                raw = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                body = raw.decode(errors="replace")
                if role not in SEES_REFERENCE and reference in body.replace(path, ""):
                    surprises.append(f"{surface} {method} {path} as {role}: shows A's reference")
    assert not surprises, "\n".join(surprises)
    assert len(surprises) == 0
