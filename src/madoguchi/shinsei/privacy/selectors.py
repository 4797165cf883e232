from .models import RetentionReport


def reports_for_agency(*, agency_code: str) -> list[RetentionReport]:
    """The retention reports, each reduced to the lines of one agency (a
    run covers every agency); runs that did nothing are kept as they are."""
    reports = []
    for report in RetentionReport.objects.all()[:200]:
        report.lines = [line for line in report.lines if line.get("agency") == agency_code]
        reports.append(report)
    return reports
