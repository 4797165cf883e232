"""Reports of the retention sweep: kept after the data itself is gone, so
the city can show what it disposed of, when and under which rule (廃棄の記録)."""

from django.db import models


class RetentionReport(models.Model):
    """One run of the retention sweep. ``lines`` holds, per procedure and
    rule, how many applications were deleted or anonymised and their 整理番号
    (a random number that names no one once the application is gone);
    ``held`` the 整理番号 a legal hold kept back."""

    ran_at = models.DateTimeField(db_index=True)
    performed_by = models.CharField(max_length=64)
    deleted = models.PositiveIntegerField(default=0)
    anonymised = models.PositiveIntegerField(default=0)
    lines = models.JSONField(default=list)
    held = models.JSONField(default=list)

    class Meta:
        db_table = "shinsei_retention_report"
        ordering = ["-ran_at", "-id"]
