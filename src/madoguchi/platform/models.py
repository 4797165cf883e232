from django.db import models


class Throttle(models.Model):
    """A counter for one key (e.g. ``login-address:staff:203.0.113.9`` or
    ``api-key:17``) over a fixed window, optionally blocked until a time.

    Used for the lockout of a source address after repeated login failures
    and for the rate limits on logins, the inquiry and the merchant API.
    """

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    count = models.IntegerField(default=0)
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "platform_throttle"
