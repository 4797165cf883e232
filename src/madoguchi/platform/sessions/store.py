from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.utils import timezone

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
        if self.get(EXPIRY_KEY) is None:
            self._start_lifetime()
        super().save(must_create=must_create)

    def cycle_key(self) -> None:
        """A new key for a change of privilege, with a fresh lifetime."""
        super().cycle_key()
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
