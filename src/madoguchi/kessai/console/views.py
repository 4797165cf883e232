"""Payment administrators' console: no card data and no personal data, ever.

Pages are in pages.py (statistics, search, exports) and manage_views.py
(merchants, accounts, fee rates); sign-in is in auth_views.py.
"""

from madoguchi.platform.accounts import login_required

from .models import ConsoleAccount

console_login_required = login_required(ConsoleAccount, "console:login")
