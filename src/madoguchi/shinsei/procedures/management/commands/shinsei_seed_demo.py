import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from madoguchi.shinsei.procedures.demo import seed_demo


class Command(BaseCommand):
    help = "Create Shinsei's demo agencies, departments, procedures and staff (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kessai-credentials", required=True, type=Path)
        parser.add_argument("--out", required=True, type=Path)

    def handle(self, *args: Any, kessai_credentials: Path, out: Path, **options: Any) -> None:
        result = seed_demo(kessai_credentials=json.loads(kessai_credentials.read_text()))
        if result is None:
            self.stdout.write("Shinsei demo data already present.")
            return
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
        out.chmod(0o600)
        self.stdout.write(f"Shinsei demo data created; accounts in {out}")
