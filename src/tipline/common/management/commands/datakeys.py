"""`tipline datakeys generate|rotate|status`: the keys that encrypt reporters' data."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tipline.common import crypto, fields


class Command(BaseCommand):
    help = (
        "Reporters' personal data is encrypted with TIPLINE_DATA_KEYS (comma-separated, the "
        "first encrypts, all decrypt). `generate` prints a new key; put it first, keep the "
        "old ones after it, restart, then `rotate` re-encrypts every value with it, after "
        "which the old keys may go. `status` counts values not yet on the first key."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("generate", help="print a new data key")
        sub.add_parser("rotate", help="re-encrypt every value with the first key")
        sub.add_parser("status", help="how many values are on an older key")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "generate":
            self.stdout.write(crypto.generate_key())
            return
        try:
            done = fields.encrypted_columns_rotate(dry_run=action == "status")
        except crypto.DataKeyError as exc:
            raise CommandError(str(exc)) from exc
        verb = "re-encrypted" if action == "rotate" else "on an older key"
        for r in done:
            self.stdout.write(f"{r.table}.{r.column}: {r.checked} value(s), {r.rewritten} {verb}")
        if action == "status":
            stale = sum(r.rewritten for r in done)
            keys = len(settings.DATA_KEYS)
            self.stdout.write(
                f"{keys} key(s) configured; "
                + (
                    "every value is on the first key"
                    if not stale
                    else "run `tipline datakeys rotate`"
                )
            )
