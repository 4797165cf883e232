"""Shared bits of the demo seeding both services do for ``madoguchi up``."""

import os
import secrets
import string

# The agencies of the seed document (section 2(5)): their codes are shared by
# Shinsei (Agency.code) and Kessai (Merchant.code).
DEMO_AGENCIES = [
    ("mayor", "藤沢市（市長）"),
    ("agri-committee", "藤沢市農業委員会"),
    # An SBPS customer (issue #13): Shinsei collects its fees through SBPS's
    # link type, and its card payments in Kessai go through SBPS's API.
    ("kyoiku-iinkai", "藤沢市教育委員会"),
]

# The SBPS simulator's demo merchant: one merchant id, a service per interface.
DEMO_SBPS_MERCHANT_ID = "90001"
DEMO_SBPS_LINK_SERVICE_ID = "001"
DEMO_SBPS_API_SERVICE_ID = "002"


def demo_sbps_hash_key() -> str:
    """``madoguchi up`` draws one per var dir (secrets.json) and passes it to
    the seeds and the simulator; tests use the fixed fallback."""
    return os.environ.get("MADOGUCHI_DEMO_SBPS_HASH_KEY", "") or "sbps-demo-hash-key-0123456789"


def generate_password(length: int = 16) -> str:
    """A password that satisfies the policy: letters and digits, 16 long."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
