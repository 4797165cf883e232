from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBStore

from .models import Session

ACCOUNT_KEY = "_account_key"
# A login under way (password right, second factor or password change owed):
# bound to the account too, so revoking its sessions ends these as well.
PENDING_KEY = "_pending_account_key"


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        obj: Session = super().create_model_instance(data)  # type: ignore[assignment]
        obj.account_key = data.get(ACCOUNT_KEY) or data.get(PENDING_KEY) or ""
        return obj


def revoke_sessions(account_key: str) -> int:
    deleted, _ = Session.objects.filter(account_key=account_key).delete()
    return deleted
