"""Console pages that read: dashboard, transactions and the CSV exports."""

import datetime
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from madoguchi.kessai.statistics.fees import FeeSchedule
from madoguchi.platform.audit.services import audit_record

from . import charts, exports, selectors
from .forms import (
    MONTH_ERROR,
    DayForm,
    SummaryExportForm,
    TransactionSearchForm,
    parse_month,
    transaction_forms,
)
from .permissions import is_administrator
from .views import console_login_required


def page_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "account": request.account,  # type: ignore[attr-defined]
        "is_administrator": is_administrator(request),
        **extra,
    }


def _charts(board: selectors.Dashboard) -> dict[str, Any]:
    return {
        "method_chart": charts.bar_chart(
            [(label, f.succeeded_amount) for label, f in board.method_rows()]
        ),
        "merchant_chart": charts.bar_chart(
            [(label, f.succeeded_amount) for label, f in board.merchant_rows()]
        ),
    }


@never_cache
@require_GET
@console_login_required
def dashboard_day(request: HttpRequest) -> HttpResponse:
    form = DayForm(request.GET)
    day = (form.cleaned_data.get("day") if form.is_valid() else None) or selectors.today_jst()
    merchant_id = form.merchant_id()
    fees = FeeSchedule.load()
    board = selectors.dashboard(
        start=day, end=day + datetime.timedelta(days=1), merchant_id=merchant_id, fees=fees
    )
    trend = selectors.dashboard(
        start=day - datetime.timedelta(days=30),
        end=day + datetime.timedelta(days=1),
        merchant_id=merchant_id,
        fees=fees,
        groups=("day",),
    )
    days = trend.day_rows()
    trend_chart = charts.line_chart(
        [d.strftime("%m/%d") for d, _ in days],
        [
            ("決済金額", "line-amount", [f.succeeded_amount for _, f in days]),
            ("差引額", "line-net", [f.net for _, f in days]),
        ],
    )
    return render(
        request,
        "console/dashboard_day.html",
        page_context(
            request,
            form=form,
            day=day,
            previous=day - datetime.timedelta(days=1),
            next=day + datetime.timedelta(days=1),
            merchant_id=merchant_id or "",
            board=board,
            trend=trend,
            trend_chart=trend_chart,
            **_charts(board),
        ),
    )


@never_cache
@require_GET
@console_login_required
def dashboard_month(request: HttpRequest) -> HttpResponse:
    form = DayForm(request.GET)
    merchant_id = form.merchant_id()
    typed = request.GET.get("month", "")
    parsed = parse_month(typed)
    month_error = MONTH_ERROR if typed and parsed is None else ""
    start = parsed or selectors.month_start(selectors.today_jst())
    end = selectors.add_months(start, 1)
    fees = FeeSchedule.load()
    board = selectors.dashboard(start=start, end=end, merchant_id=merchant_id, fees=fees)
    year = selectors.dashboard(
        start=selectors.add_months(start, -11),
        end=end,
        merchant_id=merchant_id,
        fees=fees,
        groups=("month",),
    )
    months = year.month_rows()
    days = board.day_rows()
    return render(
        request,
        "console/dashboard_month.html",
        page_context(
            request,
            form=form,
            month=start,
            month_error=month_error,
            previous=selectors.add_months(start, -1),
            next=end,
            merchant_id=merchant_id or "",
            board=board,
            year=year,
            day_chart=charts.line_chart(
                [d.strftime("%d") for d, _ in days],
                [
                    ("決済金額", "line-amount", [f.succeeded_amount for _, f in days]),
                    ("差引額", "line-net", [f.net for _, f in days]),
                ],
            ),
            month_chart=charts.bar_chart(
                [(f"{y}/{m:02d}", f.succeeded_amount) for (y, m), f in months]
            ),
            **_charts(board),
        ),
    )


@never_cache
@require_GET
@console_login_required
def transactions(request: HttpRequest) -> HttpResponse:
    form = TransactionSearchForm(request.GET)
    before = request.GET.get("before", "")
    rows, next_before = selectors.transactions_page(
        form.filters(), before=int(before) if before.isdigit() else None
    )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "console/transactions.html",
        page_context(
            request,
            form=form,
            payments=rows,
            next_before=next_before,
            query=query.urlencode(),
        ),
    )


@never_cache
@require_GET
@console_login_required
def transaction_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    detail = selectors.transaction_detail(public_id)
    if detail is None:
        raise Http404
    return render(
        request,
        "console/transaction_detail.html",
        page_context(
            request,
            detail=detail,
            message=request.session.pop("console_message", ""),
            **transaction_forms(detail),
        ),
    )


def _csv_response(
    request: HttpRequest,
    *,
    name: str,
    header: list[str],
    rows: Any,
    encoding: str,
    detail: dict[str, Any],
) -> HttpResponse:
    # Recorded before the first byte leaves: who, when, from where, what.
    audit_record(
        actor=request.account.account_key,  # type: ignore[attr-defined]
        event="export",
        request=request,
        resource=name,
        detail={**detail, "encoding": encoding},
    )
    charset = "Shift_JIS" if encoding == "shift_jis" else "utf-8"
    response = StreamingHttpResponse(
        exports.encode_csv(header, rows, encoding=encoding),
        content_type=f"text/csv; charset={charset}",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    # The login decorator is typed for HttpResponse; Django handles both alike.
    return cast(HttpResponse, response)


def _encoding(request: HttpRequest) -> str:
    return "shift_jis" if request.GET.get("encoding") == "shift_jis" else "utf-8"


@require_GET
@console_login_required
def export_transactions(request: HttpRequest) -> HttpResponse:
    filters = TransactionSearchForm(request.GET).filters()
    return _csv_response(
        request,
        name="transactions.csv",
        header=exports.TRANSACTION_HEADER,
        rows=exports.transaction_csv_rows(filters),
        encoding=_encoding(request),
        detail=filters.as_detail(),
    )


def _summary_range(request: HttpRequest) -> tuple[datetime.date | None, datetime.date | None]:
    form = SummaryExportForm(request.GET)
    if not form.is_valid():
        return None, None
    return form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to")


@require_GET
@console_login_required
def export_daily(request: HttpRequest) -> HttpResponse:
    start, end = _summary_range(request)
    return _csv_response(
        request,
        name="daily-summary.csv",
        header=["日付", *exports.SUMMARY_HEADER],
        rows=exports.daily_csv_rows(start, end),
        encoding=_encoding(request),
        detail={"date_from": str(start or ""), "date_to": str(end or "")},
    )


@require_GET
@console_login_required
def export_monthly(request: HttpRequest) -> HttpResponse:
    start, end = _summary_range(request)
    return _csv_response(
        request,
        name="monthly-summary.csv",
        header=["年月", *exports.SUMMARY_HEADER],
        rows=exports.monthly_csv_rows(start, end),
        encoding=_encoding(request),
        detail={"date_from": str(start or ""), "date_to": str(end or "")},
    )


@never_cache
@require_GET
@console_login_required
def export_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/exports.html",
        page_context(request, form=TransactionSearchForm(), summary_form=SummaryExportForm()),
    )
