from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.analyze import matching
from tipline.analyze.models import HashBank
from tipline.harmonize.taxonomy import Classification, Theme


class Command(BaseCommand):
    help = "Hash banks of known content: `import NAME FILE --theme T`, `list`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a hash file into a bank (created if new)")
        imp.add_argument("name")
        imp.add_argument("file", type=Path)
        imp.add_argument("--theme", choices=[t.value for t in Theme], default=Theme.CSAM)
        imp.add_argument(
            "--classification",
            choices=[c.value for c in Classification],
            default=Classification.UNASSESSED,
        )
        imp.add_argument("--source", default="")
        imp.add_argument(
            "--no-rematch",
            action="store_true",
            help="do not match the media already received against the bank now",
        )
        sub.add_parser("list", help="list banks")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            for bank in HashBank.objects.order_by("name"):
                state = "enabled" if bank.enabled else "disabled"
                self.stdout.write(
                    f"{bank.name}\t{bank.theme}\t{bank.entries.count()} hashes\t{state}"
                )
            return
        path: Path = options["file"]
        try:
            content = path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            raise CommandError(f"cannot read {path}: {e.strerror}") from None
        bank, _ = HashBank.objects.get_or_create(
            name=options["name"],
            defaults={
                "theme": options["theme"],
                "classification": options["classification"],
                "source": options["source"],
            },
        )
        result = matching.bank_import(bank=bank, content=content)
        for bad in result.bad_lines:
            self.stderr.write(f"{path}:{bad['line']}: {bad['reason']}")
        self.stdout.write(
            f"{bank.name}: {result.added} hashes added, "
            f"{result.already_there} already there, "
            f"{len(result.bad_lines)} bad lines skipped"
        )
        if result.added and not options["no_rematch"]:
            found = matching.media_rematch()
            self.stdout.write(f"{found} matches among the media already received")
