from typing import Any

from django.conf import settings
from django.db import transaction

from madoguchi.kessai.console.models import ConsoleAccount
from madoguchi.platform.demo import (
    DEMO_AGENCIES,
    DEMO_SBPS_API_SERVICE_ID,
    DEMO_SBPS_MERCHANT_ID,
    demo_sbps_hash_key,
    generate_password,
)

from .models import Merchant
from .services import merchant_create

# Merchants whose card payments go through SBPS's API type in the demo.
SBPS_API_MERCHANTS = {"kyoiku-iinkai"}


@transaction.atomic
def seed_demo(*, shinsei_public_url: str) -> dict[str, Any] | None:
    """Create the demo merchants and an administrator; None if already seeded."""
    if Merchant.objects.exists():
        return None
    merchants = {}
    for code, name in DEMO_AGENCIES:
        merchant, issued = merchant_create(
            code=code,
            display_name=name,
            notification_url=f"{shinsei_public_url.rstrip('/')}/kessai/notifications/{code}",
        )
        connector = (
            "sbps_api" if code in SBPS_API_MERCHANTS else settings.KESSAI_DEMO_CARD_CONNECTOR
        )
        Merchant.objects.filter(pk=merchant.pk).update(card_connector=connector)
        if connector == "sbps_api":
            # Its cards go through SBPS's API type (the SBPS simulator).
            Merchant.objects.filter(pk=merchant.pk).update(
                card_connector="sbps_api",
                sbps_merchant_id=DEMO_SBPS_MERCHANT_ID,
                sbps_service_id=DEMO_SBPS_API_SERVICE_ID,
                sbps_hash_key=demo_sbps_hash_key(),
            )
        merchants[code] = {
            "api_key": issued.raw_key,
            "notification_secret": merchant.notification_secret,
        }
    password = generate_password()
    admin = ConsoleAccount(
        login_id="kessai-admin",
        display_name="デジタル推進担当 管理者",
        role=ConsoleAccount.Role.ADMINISTRATOR,
        # The printed demo password is the owner's own; TOTP is set up at first login.
        must_change_password=False,
    )
    admin.set_password(password)
    admin.save()
    return {
        "merchants": merchants,
        "console_accounts": [
            {"login_id": admin.login_id, "password": password, "role": admin.role}
        ],
    }
