from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.intake import services
from tipline.intake.models import Provider


class Command(BaseCommand):
    help = "Manage service providers allowed to use the API: `add NAME`, `list`, `revoke NAME`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a provider and print its API token once")
        add.add_argument("name")
        sub.add_parser("list", help="list providers")
        revoke = sub.add_parser("revoke", help="disable a provider's token")
        revoke.add_argument("name")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            try:
                provider, token = services.provider_create(name=options["name"])
            except ValueError as e:
                raise CommandError(str(e)) from None
            self.stdout.write(
                f"Provider {provider.name!r} created. Its API token is below; "
                "it is shown only now and stored only as a hash:"
            )
            self.stdout.write(token)
        elif action == "list":
            for p in Provider.objects.order_by("name"):
                state = "active" if p.is_active else "revoked"
                self.stdout.write(f"{p.name}\t{p.token_prefix}…\t{state}")
        elif action == "revoke":
            try:
                services.provider_revoke(name=options["name"])
            except Provider.DoesNotExist:
                raise CommandError(f"no provider named {options['name']!r}") from None
            self.stdout.write(f"Provider {options['name']!r} can no longer use the API.")
