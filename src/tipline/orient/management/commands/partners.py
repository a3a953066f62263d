"""`tipline partners add|list`: the partner hotlines this instance exchanges with."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.orient import exchange, services
from tipline.orient.models import Destination, DestinationKind


class Command(BaseCommand):
    help = (
        "Partner hotlines: `add --code C --name N --country CC --url INBOX_URL --keys FILE` "
        "(FILE: the output of their `tipline keys show`), `list`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a partner, or update its address and keys")
        add.add_argument("--code", required=True, help="a short name rules can use: partner-de")
        add.add_argument("--name", required=True)
        add.add_argument("--country", required=True, help="ISO 3166 alpha-2, e.g. DE")
        add.add_argument(
            "--url", required=True, help="their inbox: https://…/api/v1/exchange/inbox"
        )
        add.add_argument("--keys", required=True, type=Path, help="their `tipline keys show` JSON")
        add.add_argument("--language", default="en")
        add.add_argument("--not-inhope", action="store_true", help="not an INHOPE member")
        sub.add_parser("list", help="list partner hotlines")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            for d in Destination.objects.filter(kind=DestinationKind.PARTNER):
                state = "active" if d.is_active else "inactive"
                self.stdout.write(
                    f"{d.code}\t{d.country}\t{d.instance_id}\t{d.endpoint_url}\t{state}"
                )
            return
        try:
            data = json.loads(options["keys"].read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['keys']}: {exc}") from exc
        instance_id = data.get("instance_id") if isinstance(data, dict) else None
        if not instance_id:
            raise CommandError("the keys file has no instance_id: use their `tipline keys show`")
        try:
            dest = services.partner_save(
                code=options["code"],
                name=options["name"],
                country=options["country"],
                endpoint_url=options["url"],
                instance_id=instance_id,
                jwks={"keys": data.get("keys")},
                inhope_member=not options["not_inhope"],
                language=options["language"],
            )
        except (exchange.ExchangeError, services.OrientError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"partner {dest.code} ({dest.country}) saved: {dest.instance_id}")
