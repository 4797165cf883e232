"""Shared bits of the demo seeding both services do for ``madoguchi up``."""

import secrets
import string

# The agencies of the seed document (section 2(5)): their codes are shared by
# Shinsei (Agency.code) and Kessai (Merchant.code).
DEMO_AGENCIES = [("mayor", "藤沢市（市長）"), ("agri-committee", "藤沢市農業委員会")]


def generate_password(length: int = 16) -> str:
    """A password that satisfies the policy: letters and digits, 16 long."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
