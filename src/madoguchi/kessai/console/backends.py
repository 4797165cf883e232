from madoguchi.platform.accounts import AccountBackend

from .models import ConsoleAccount


class ConsoleBackend(AccountBackend[ConsoleAccount]):
    model = ConsoleAccount
