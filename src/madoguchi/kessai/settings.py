"""Kessai (オンライン決済システム) settings. One process serves one surface."""

from madoguchi.platform.conf import env, service_settings

globals().update(
    service_settings(
        service="kessai",
        surfaces={
            "kessai_public": "madoguchi.kessai.urls_public",
            "kessai_console": "madoguchi.kessai.urls_console",
        },
        apps=[
            "madoguchi.kessai.merchants",
            "madoguchi.kessai.payments",
            "madoguchi.kessai.console",
        ],
    )
)

KESSAI_PUBLIC_URL = env("KESSAI_PUBLIC_URL", "http://127.0.0.1:8100")
KESSAI_ACQUIRER_URL = env("KESSAI_ACQUIRER_URL", "http://127.0.0.1:8200")
KESSAI_ACQUIRER_KEY = env("KESSAI_ACQUIRER_KEY", "acq_test_madoguchi")
KESSAI_CHECKOUT_LINK_SECONDS = int(env("KESSAI_CHECKOUT_LINK_SECONDS", "900"))
KESSAI_PROVIDERS = ["madoguchi.kessai.providers.card.provider.CardProvider"]

MADOGUCHI_PERIODIC = [
    ("madoguchi.kessai.payments.tasks.notifications_sweep", 30.0),
    ("madoguchi.kessai.payments.tasks.payments_sweep", 30.0),
]
