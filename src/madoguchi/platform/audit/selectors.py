from django.db.models import QuerySet

from .models import AuditRecord


def audit_recent(*, event: str = "", actor: str = "", limit: int = 200) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.order_by("-id")
    if event:
        records = records.filter(event__startswith=event)
    if actor:
        records = records.filter(actor=actor)
    return records[:limit]
