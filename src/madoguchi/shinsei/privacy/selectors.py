from typing import Any

from madoguchi.shinsei.applications.models import Application
from madoguchi.shinsei.procedures.models import RetentionAction

from .models import RetentionReport


def reports_for_agency(*, agency_code: str) -> list[RetentionReport]:
    """The retention reports, each reduced to the lines, counts and held
    applications of one agency (a run covers every agency); runs that did
    nothing for it are kept, with nothing in them."""
    reports = []
    for report in RetentionReport.objects.all()[:200]:
        report.lines = [line for line in report.lines if line.get("agency") == agency_code]
        report.deleted = _count(report.lines, RetentionAction.DELETE)
        report.anonymised = _count(report.lines, RetentionAction.ANONYMISE)
        report.held = _held_of_agency(report.held, agency_code)
        reports.append(report)
    return reports


def _held_of_agency(held: list[str | dict[str, str]], agency_code: str) -> list[str]:
    """The 整理番号 held back for ``agency_code``. Reports written before the
    agency was recorded with each hold list bare numbers: a held application
    still exists (the hold kept it), so its agency is looked up."""
    own = [e["reference"] for e in held if isinstance(e, dict) and e["agency"] == agency_code]
    bare = [entry for entry in held if isinstance(entry, str)]
    if bare:
        own += Application.objects.filter(
            reference__in=bare, procedure__department__agency__code=agency_code
        ).values_list("reference", flat=True)
    return sorted(own)


def _count(lines: list[dict[str, Any]], action: str) -> int:
    return sum(len(line["references"]) for line in lines if line["action"] == action)
