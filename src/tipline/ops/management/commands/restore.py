"""`tipline restore SRC`: put a backup made by `tipline backup` back (tipline.ops.backup)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.ops import backup


class Command(BaseCommand):
    help = (
        "Restore a backup into the configured database (empty, unless --force) and data dir, "
        "with Tipline stopped: the backup is checked first (a damaged one is refused), then "
        "the database, evidence files and secrets are restored and the row counts compared "
        "with the manifest."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("dir", type=Path, help="the backup's directory")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace whatever the configured database holds",
        )

    def handle(self, *args: Any, dir: Path, force: bool, **options: Any) -> None:
        say = self.stdout.write
        try:
            done = backup.restore(dir, force=force, say=say)
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        say(f"rows: {done.rows} in {done.tables} tables, as the manifest counts them")
        if done.secrets:
            say(f"secrets: {', '.join(done.secrets)} restored into the data dir")
        say(f"reporters' contact details: {done.decrypted} sampled values open")
        say(f"audit chain: {done.audit_records} record(s) checked")
        for warning in done.warnings:
            self.stderr.write(f"warning: {warning}")
        if done.warnings:
            raise CommandError("restored, with the warnings above to act on before starting")
        say("restored: start Tipline")
