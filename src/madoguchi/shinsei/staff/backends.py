from madoguchi.platform.accounts import AccountBackend

from .models import StaffAccount


class StaffBackend(AccountBackend[StaffAccount]):
    model = StaffAccount
