from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class Session(AbstractBaseSession):
    """Django's DB session plus the account it belongs to, so that a transfer,
    a password change or a lockout can end every session of that account."""

    account_key = models.CharField(max_length=80, blank=True, db_index=True)

    class Meta:
        db_table = "platform_session"
