"""`tipline backup DEST` and `tipline backup --verify SRC`: a backup of the database, the
evidence files and the data dir's secrets, taken while Tipline runs (tipline.ops.backup)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.ops import backup


class Command(BaseCommand):
    help = (
        "Back up this instance into DIR (new or empty): a consistent snapshot of the database "
        "(SQLite's online backup, or pg_dump), the evidence files, the data dir's secrets "
        "(unless --without-secrets: the backup then holds keys, protect it) and a manifest "
        "with row counts and every file's SHA-256. With --verify, check a backup instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "dir", type=Path, help="where to write the backup (or the one to check)"
        )
        parser.add_argument(
            "--verify", action="store_true", help="check the backup in DIR, restore nothing"
        )
        parser.add_argument(
            "--without-secrets",
            action="store_true",
            help="leave the data dir's secret_key and data_key out (keep them elsewhere)",
        )

    def handle(
        self, *args: Any, dir: Path, verify: bool, without_secrets: bool, **options: Any
    ) -> None:
        say = self.stdout.write
        try:
            if verify:
                backup.verify(dir, say=say)
                return
            written = backup.backup(dir, with_secrets=not without_secrets, say=say)
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        manifest = written.manifest
        if manifest["secrets"]:
            say(
                f"secrets: {', '.join(manifest['secrets'])} (this backup holds keys: keep it "
                "where only operators can read it)"
            )
        for env in manifest["secrets_from_environment"]:
            say(f"{env} is set in the environment: not in this backup (keep it in your secrets)")
        size = sum(f["bytes"] for f in manifest["files"].values())
        say(f"backup written to {dir} ({size} bytes) in {manifest['took_s']} s")
        if written.corrupt:
            raise CommandError(
                f"{len(written.corrupt)} evidence file(s) in the store do not match their name "
                f"(their SHA-256) and were left out: {', '.join(written.corrupt[:10])}"
            )
