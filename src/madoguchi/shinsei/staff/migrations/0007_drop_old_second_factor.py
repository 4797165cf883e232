# The old second-factor columns, now in the devices (the previous migration).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shinsei_staff", "0006_second_factor_into_devices"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='staffaccount',
            name='recovery_codes',
        ),
        migrations.RemoveField(
            model_name='staffaccount',
            name='totp_last_step',
        ),
        migrations.RemoveField(
            model_name='staffaccount',
            name='totp_secret',
        ),
    ]
