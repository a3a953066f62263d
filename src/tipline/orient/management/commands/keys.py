"""`tipline keys show|rotate`: this instance's exchange keys."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tipline.orient import keys


class Command(BaseCommand):
    help = (
        "This instance's keys for the partner exchange: `show` prints the public JWK Set "
        "to give partners (with our instance id and inbox path); `rotate` makes new keys."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("show", help="print our public keys as JSON (never the private parts)")
        sub.add_parser("rotate", help="new keys; the old ones still open messages for 14 days")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "rotate":
            kids = keys.instance_keys_rotate()
            self.stderr.write(
                f"new keys {', '.join(kids)}; give partners the output of `tipline keys show`"
            )
        public = {
            "instance_id": settings.INSTANCE_ID,
            "inbox_path": "/api/v1/exchange/inbox",
            **keys.public_jwks(),
        }
        self.stdout.write(json.dumps(public, indent=2))
