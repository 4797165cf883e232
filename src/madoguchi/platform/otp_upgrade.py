"""The upgrade onto django-otp's devices (a data migration of each service):
TOTP secrets and recovery-code hashes move from the account's columns into
its devices, so nobody sets up an authenticator again. Reversible: going
back writes the devices into the columns."""

from base64 import b32decode, b32encode
from binascii import unhexlify
from collections.abc import Callable
from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

Step = Callable[[StateApps, BaseDatabaseSchemaEditor], None]


def second_factor_moves(app_label: str, prefix: str, account: str) -> tuple[Step, Step]:
    """RunPython's forward and backward steps for ``app_label``, whose models
    are ``<prefix>TOTPDevice``, ``<prefix>RecoveryDevice`` and
    ``<prefix>RecoveryToken`` next to ``account``."""

    def models(apps: StateApps) -> tuple[Any, Any, Any, Any]:
        return tuple(  # type: ignore[return-value]
            apps.get_model(app_label, name)
            for name in (
                account,
                f"{prefix}TOTPDevice",
                f"{prefix}RecoveryDevice",
                f"{prefix}RecoveryToken",
            )
        )

    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        accounts, totp, recovery, token = models(apps)
        for row in accounts.objects.exclude(totp_secret=""):
            secret = row.totp_secret.upper()
            key = b32decode(secret + "=" * (-len(secret) % 8)).hex()
            # The old column said 0 for "no code used yet"; step 0 is 1970.
            totp.objects.create(
                user=row, name="authenticator", key=key, last_t=row.totp_last_step, confirmed=True
            )
            device = recovery.objects.create(user=row, name="recovery codes", confirmed=True)
            token.objects.bulk_create([token(device=device, token=h) for h in row.recovery_codes])

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        _, totp, _, token = models(apps)
        for device in totp.objects.filter(confirmed=True).select_related("user"):
            row = device.user
            row.totp_secret = b32encode(unhexlify(device.key)).decode()
            row.totp_last_step = max(device.last_t, 0)
            row.recovery_codes = list(
                token.objects.filter(device__user=row).values_list("token", flat=True)
            )
            row.save(update_fields=["totp_secret", "totp_last_step", "recovery_codes"])

    return forward, backward
