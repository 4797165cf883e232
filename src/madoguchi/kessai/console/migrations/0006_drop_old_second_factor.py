# The old second-factor columns, now in the devices (the previous migration).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kessai_console", "0005_second_factor_into_devices"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='consoleaccount',
            name='recovery_codes',
        ),
        migrations.RemoveField(
            model_name='consoleaccount',
            name='totp_last_step',
        ),
        migrations.RemoveField(
            model_name='consoleaccount',
            name='totp_secret',
        ),
    ]
