from django.db import models


class AuditRecord(models.Model):
    """Append-only, hash-chained record of who did what, when, from where.

    ``record_hash`` covers every field and the previous record's hash, so an
    edited or deleted record breaks the chain (see ``verify_chain``).
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"
        DENIED = "denied"

    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=80)  # account key, "citizen", "system"
    event = models.CharField(max_length=60, db_index=True)  # e.g. "login", "application.view"
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    origin = models.CharField(max_length=64, blank=True)  # client IP address
    resource = models.CharField(max_length=120, blank=True)  # e.g. "application:123456789012"
    detail = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "platform_audit_record"
        ordering = ["id"]
