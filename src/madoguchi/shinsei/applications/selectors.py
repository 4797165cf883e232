from django.db.models import QuerySet

from madoguchi.shinsei.staff.models import StaffAccount

from .models import Application


def applications_for_staff(*, staff: StaffAccount) -> QuerySet[Application]:
    """Only the staff member's own department's applications, newest first."""
    return (
        Application.objects.filter(procedure__department_id=staff.department_id)
        .select_related("procedure")
        .order_by("-submitted_at")
    )


def application_for_staff(*, staff: StaffAccount, reference: str) -> Application | None:
    return (
        applications_for_staff(staff=staff)
        .select_related("procedure__department__agency")
        .filter(reference=reference)
        .first()
    )
