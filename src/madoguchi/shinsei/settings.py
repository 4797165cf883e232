"""Shinsei (電子申請・届出システム) settings. One process serves one surface."""

from madoguchi.platform.conf import env, service_settings

globals().update(
    service_settings(
        service="shinsei",
        surfaces={
            "shinsei_public": "madoguchi.shinsei.urls_public",
            "shinsei_staff": "madoguchi.shinsei.urls_staff",
        },
        apps=[
            "madoguchi.shinsei.procedures",
            "madoguchi.shinsei.staff",
            "madoguchi.shinsei.applications",
        ],
    )
)

SHINSEI_PUBLIC_URL = env("SHINSEI_PUBLIC_URL", "http://127.0.0.1:8000")
SHINSEI_KESSAI_API_URL = env("SHINSEI_KESSAI_API_URL", "http://127.0.0.1:8100/api")
SHINSEI_PAYMENT_DUE_DAYS = int(env("SHINSEI_PAYMENT_DUE_DAYS", "14"))

MADOGUCHI_PERIODIC = [
    ("madoguchi.shinsei.applications.services.applications_sweep", 60.0),
]
