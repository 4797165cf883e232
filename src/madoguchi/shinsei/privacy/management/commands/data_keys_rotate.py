"""Re-wrap every data key with the current key-encryption key.

Put the new KEK first in SHINSEI_DATA_KEYS (keep the old one after it), run
this, then remove the old KEK. The data itself is not re-encrypted."""

from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.shinsei.privacy.keys import data_keys_rotate


class Command(BaseCommand):
    help = "Re-wrap every data key with the current key-encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = data_keys_rotate()
        for table, count in counts.items():
            self.stdout.write(f"{table}: {count} re-wrapped")
