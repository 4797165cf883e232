from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.utils import timezone
from django.utils.crypto import get_random_string

from .models import Session

ACCOUNT_KEY = "_account_key"
# A login under way (password right, second factor or password change owed):
# bound to the account too, so revoking its sessions ends these as well.
PENDING_KEY = "_pending_account_key"
EXPIRY_KEY = "_session_expiry"  # Django's own key for an explicit expiry


class SessionStore(DBStore):
    """Django's database sessions with an absolute lifetime: a session ends
    ``SESSION_COOKIE_AGE`` after it began (or after its key was last rotated,
    at a login or a citizen's inquiry), however often it is used; Django's
    default lifetime would slide with every saved request."""

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        obj: Session = super().create_model_instance(data)  # type: ignore[assignment]
        obj.account_key = data.get(ACCOUNT_KEY) or data.get(PENDING_KEY) or ""
        return obj

    def save(self, must_create: bool = False) -> None:
        """One statement where Django's store spends several: a session of the
        request's key is saved with a bare ``UPDATE`` (one statement is atomic
        by itself: no transaction around it), and a key cycled during the
        request moves the row to the new key in that same ``UPDATE``."""
        if self.get(EXPIRY_KEY) is None:
            self._start_lifetime()
        cycled = "_cycled_from" in self.__dict__
        previous = self.__dict__.pop("_cycled_from", None)
        if must_create or self.session_key is None or (cycled and previous is None):
            super().save(must_create=True)
            return
        obj = self.create_model_instance(dict(self.items()))
        values = {
            "session_data": obj.session_data,
            "expire_date": obj.expire_date,
            "account_key": obj.account_key,
        }
        if previous:
            values["session_key"] = obj.session_key
        updated = Session.objects.filter(session_key=previous or obj.session_key).update(**values)
        if updated:
            return
        if cycled:  # the old row is gone (expired and swept): start afresh
            super().save(must_create=True)
            return
        raise UpdateError

    def cycle_key(self) -> None:
        """A new key for a change of privilege, with a fresh lifetime.

        Django's store inserts a row under the new key at once (after asking
        whether the key is free) and deletes the old row; here the row moves
        to the new key when the session is saved at the end of the request
        (``save``): the old key stops working with that response, as before,
        for one ``UPDATE`` instead of four statements in two transactions. The
        new key is 32 random characters of 36 (165 bits): a collision fails
        the unique key rather than being looked for first."""
        data = dict(self.items())
        if "_cycled_from" not in self.__dict__:
            self.__dict__["_cycled_from"] = self.session_key
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._session_cache = data
        self.modified = True
        self._start_lifetime()

    def _start_lifetime(self) -> None:
        self.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))


def revoke_sessions(account_key: str) -> int:
    deleted, _ = Session.objects.filter(account_key=account_key).delete()
    return deleted


def sessions_sweep() -> int:
    """Delete expired sessions (periodic): they may hold a citizen's
    unfinished answers. Returns how many were deleted."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
