"""`tipline export stix|csv|referral`: an item or a network for others' tools."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tipline.orient import exports, selectors


class Command(BaseCommand):
    help = (
        "Export an item or a network: `stix` (a STIX 2.1 bundle, for MISP/OpenCTI) and "
        "`csv` write to standard output; `referral --out FILE.zip` writes a law-enforcement "
        "package (JSON, evidence files, SHA-256 manifest)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("format", choices=["stix", "csv", "referral"])
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--item", type=int)
        which.add_argument("--network", type=int)
        parser.add_argument("--tlp", default="amber", choices=["clear", "green", "amber", "red"])
        parser.add_argument("--out", type=Path, help="referral: the ZIP file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["item"] is not None:
            ids = [options["item"]]
            title = f"Tipline item {options['item']}"
        else:
            ids = selectors.network_item_ids(options["network"])
            title = f"Tipline network {options['network']}"
            if not ids:
                raise CommandError(f"there is no network {options['network']}")
        items = selectors.export_items(ids)
        if not items:
            raise CommandError(f"there is no item {options['item']}")
        fmt = options["format"]
        if fmt == "stix":
            context = exports.ExportContext(
                hotline_name=settings.HOTLINE_NAME,
                instance_id=settings.INSTANCE_ID,
                tlp=options["tlp"],
            )
            self.stdout.write(exports.stix_bundle(items, context=context, title=title))
        elif fmt == "csv":
            self.stdout.write(exports.items_csv(items), ending="")
        else:
            if options["out"] is None:
                raise CommandError("referral needs --out FILE.zip")
            package = selectors.referral_package(ids, title=title)
            data = exports.referral_zip(
                referral=package.referral, evidence=package.evidence, created=timezone.now()
            )
            options["out"].write_bytes(data)
            self.stdout.write(
                json.dumps({"file": str(options["out"]), "files": len(package.evidence) + 2})
            )
