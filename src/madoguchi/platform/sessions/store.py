from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBStore

from .models import Session

ACCOUNT_KEY = "_account_key"


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        obj: Session = super().create_model_instance(data)  # type: ignore[assignment]
        obj.account_key = data.get(ACCOUNT_KEY, "")
        return obj


def revoke_sessions(account_key: str) -> int:
    deleted, _ = Session.objects.filter(account_key=account_key).delete()
    return deleted
