import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.urls import set_urlconf

from madoguchi.kessai.payments.api import api


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Write the merchant API's OpenAPI document (kept in the repo as docs/openapi.json)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", type=Path, default=Path("docs/openapi.json"))

    def handle(self, *args: Any, out: Path, **options: Any) -> None:
        set_urlconf("madoguchi.kessai.urls_public")
        schema = api.get_openapi_schema()
        out.write_text(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n")
        self.stdout.write(f"wrote {out}")
