"""`tipline rules export|import`: the routing rules as YAML."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.orient import core, services


class Command(BaseCommand):
    help = (
        "Routing rules as YAML: `export` writes them to standard output; `import FILE` "
        "checks every rule and replaces the rules in force only if all are valid."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("export", help="print the rules in force as YAML")
        imp = sub.add_parser("import", help="replace the rules by those of a YAML file")
        imp.add_argument("file", help="a YAML file, or - for standard input")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "export":
            rules, _ = services.rules_current()
            self.stdout.write(core.rules_to_yaml(rules), ending="")
            return
        name = options["file"]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc}") from exc
        try:
            rules = core.rules_from_yaml(text)
        except core.RuleError as exc:
            raise CommandError(f"{name}: {exc}; nothing was changed") from exc
        try:
            count = services.rules_replace(rules=rules)
        except services.OrientError as exc:
            raise CommandError(f"{name}: {exc}") from exc
        self.stdout.write(f"{count} rule(s) in force; items are routed again as they move")
