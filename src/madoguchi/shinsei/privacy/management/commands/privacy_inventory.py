"""Print (or --write) the 個人情報ファイル簿 as Markdown."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.shinsei.privacy.inventory import inventory_document, inventory_unclassified


class Command(BaseCommand):
    help = "The personal-data inventory (個人情報ファイル簿) as Markdown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="PATH", help="write it to PATH instead")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = inventory_unclassified()
        if missing:
            raise CommandError(f"unclassified fields: {', '.join(missing)}")
        text = inventory_document()
        if options["write"]:
            Path(options["write"]).write_text(text)
        else:
            self.stdout.write(text)
