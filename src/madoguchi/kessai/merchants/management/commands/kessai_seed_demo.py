import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.kessai.merchants.demo import seed_demo


class Command(BaseCommand):
    help = "Create Kessai's demo merchants and administrator (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--shinsei-public-url", required=True)
        parser.add_argument("--out", required=True, type=Path)

    def handle(self, *args: Any, shinsei_public_url: str, out: Path, **options: Any) -> None:
        result = seed_demo(shinsei_public_url=shinsei_public_url)
        if result is None:
            self.stdout.write("Kessai demo data already present.")
            return
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
        out.chmod(0o600)
        self.stdout.write(f"Kessai demo data created; credentials in {out}")
