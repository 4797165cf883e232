# Rate limits and lockouts count in Django's cache (platform/throttle.py).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("madoguchi_platform", "0001_throttle"),
    ]

    operations = [
        migrations.DeleteModel(name="Throttle"),
    ]
