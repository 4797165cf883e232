from django.db import models


class ScheduledJob(models.Model):
    """One periodic sweep of a service, as the scheduler sees it.

    ``next_run_at`` is the enqueue guard: a scheduler enqueues the sweep only
    by moving it forward with a conditional UPDATE, so two schedulers never
    enqueue the same run. ``lease_until`` is the run guard: the worker running
    the sweep holds it, so a slow run never overlaps the next one.
    """

    name = models.CharField(max_length=200, unique=True)
    next_run_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True, default="")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.IntegerField(null=True, blank=True)
    last_ok = models.BooleanField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "platform_scheduled_job"


class Heartbeat(models.Model):
    """A worker's or scheduler's sign of life, refreshed every few seconds.

    ``/readyz`` wants a worker heartbeat younger than a minute; task rows a
    worker left running are recovered once its heartbeat has gone stale."""

    class Kind(models.TextChoices):
        WORKER = "worker"
        SCHEDULER = "scheduler"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    host = models.CharField(max_length=200, blank=True, default="")
    pid = models.IntegerField(default=0)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "platform_heartbeat"
