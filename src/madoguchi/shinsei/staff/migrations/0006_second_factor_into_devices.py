# TOTP secrets and recovery-code hashes move into the django-otp devices:
# nobody sets up an authenticator again (platform/otp_upgrade.py).

from django.db import migrations

from madoguchi.platform.otp_upgrade import second_factor_moves

forward, backward = second_factor_moves("shinsei_staff", "Staff", "StaffAccount")


class Migration(migrations.Migration):
    dependencies = [
        ("shinsei_staff", "0005_otp_devices"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
