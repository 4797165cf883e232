from madoguchi.platform.backends import AccountBackend

from .models import ConsoleAccount


class ConsoleBackend(AccountBackend[ConsoleAccount]):
    model = ConsoleAccount
