"""`tipline audit verify|export`: check the audit chain; export records for supervisors."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.common import audit
from tipline.common.models import AuditRecord


class Command(BaseCommand):
    help = (
        "The audit log: `verify` checks the hash chain and names the first broken record "
        "(exit status 1); `export [--actor U] [--action A] [--target T] [--since DATE]` "
        "writes records as CSV."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("verify", help="check every record's hash and link")
        export = sub.add_parser("export", help="records as CSV on standard output")
        export.add_argument("--actor")
        export.add_argument("--action", help="e.g. item.assess, or a prefix such as item.")
        export.add_argument("--target", help="e.g. item:12")
        export.add_argument("--since", type=date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        if command == "verify":
            checked, broken = audit.audit_verify()
            if broken is not None:
                raise CommandError(
                    f"audit chain broken at record #{broken.seq}: {broken.reason} "
                    f"({checked} record(s) before it hold)"
                )
            self.stdout.write(f"audit chain intact: {checked} record(s)")
            return
        rows = AuditRecord.objects.order_by("seq")
        if options["actor"]:
            rows = rows.filter(actor=options["actor"])
        if options["action"]:
            rows = rows.filter(action__startswith=options["action"])
        if options["target"]:
            rows = rows.filter(target=options["target"])
        if options["since"]:
            rows = rows.filter(at__date__gte=options["since"])
        self.stdout.write(audit.audit_csv(rows.iterator()), ending="")
