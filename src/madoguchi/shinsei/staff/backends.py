from madoguchi.platform.backends import AccountBackend

from .models import StaffAccount


class StaffBackend(AccountBackend[StaffAccount]):
    model = StaffAccount
