"""`tipline retention [--dry-run]`: erase reporter data and delete evidence past retention."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from tipline.ops import retention


class Command(BaseCommand):
    help = (
        "Apply retention now: reporters' name, e-mail and phone erased from reports closed "
        "more than TIPLINE_RETENTION_REPORTER_DAYS ago, evidence files deleted past their "
        "theme's TIPLINE_RETENTION_EVIDENCE_DAYS; recorded in the audit log. With --dry-run, "
        "print what would go (report ids, file hashes, why) and change nothing. The workers "
        "run it once a day."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="show, change nothing")
        parser.add_argument("--json", action="store_true", dest="as_json", help="one JSON object")

    def handle(self, *args: Any, dry_run: bool, as_json: bool, **options: Any) -> None:
        policy = retention.Policy.from_settings()
        if dry_run:
            todo = retention.plan(now=timezone.now(), policy=policy)
            done_reports, done_files = len(todo.reports), len(todo.files)
        else:
            outcome = retention.retention_apply(policy=policy)
            todo, done_reports, done_files = (
                outcome.plan,
                outcome.reports_anonymized,
                outcome.files_deleted,
            )
        if as_json:
            self.stdout.write(_json(todo, dry_run, done_reports, done_files))
            return
        verb = ("would be erased", "would be deleted") if dry_run else ("erased", "deleted")
        self.stdout.write(f"reporter data {verb[0]} from {done_reports} report(s)")
        for going in todo.reports:
            self.stdout.write(f"  {going.target}: {going.reason}")
        self.stdout.write(f"evidence files {verb[1]}: {done_files}")
        for going in todo.files:
            self.stdout.write(f"  {going.target}: {going.reason}")


def _json(todo: retention.Plan, dry_run: bool, reports: int, files: int) -> str:
    return json.dumps(
        {
            "dry_run": dry_run,
            "reports": reports,
            "files": files,
            "report_ids": todo.report_ids,
            "file_sha256": todo.file_shas,
            "reasons": {g.target: g.reason for g in [*todo.reports, *todo.files]},
        }
    )
