from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tipline.intake import services
from tipline.intake.choices import TokenScope
from tipline.intake.models import StaffToken


class Command(BaseCommand):
    help = (
        "Manage staff API tokens: `add --user USERNAME --scope SCOPE`, `list`, "
        "`revoke PREFIX_OR_ID`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a token for a staff member and print it once")
        add.add_argument("--user", required=True, help="the staff member's username")
        add.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help=f"what the token allows, repeatable: {', '.join(TokenScope.values)}",
        )
        add.add_argument("--name", default="", help="what the token is for")
        add.add_argument("--days", type=int, help="expire after this many days (default: never)")
        sub.add_parser("list", help="list staff tokens")
        revoke = sub.add_parser("revoke", help="disable a token for good")
        revoke.add_argument("token", metavar="PREFIX_OR_ID", help="as shown by `tokens list`")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            self._add(options["user"], options["scopes"], options["name"], options["days"])
        elif action == "list":
            self._list()
        elif action == "revoke":
            self._revoke(options["token"])

    def _add(self, username: str, scopes: list[str], name: str, days: int | None) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            staff_token, token = services.staff_token_create(
                user=user,
                name=name,
                scopes=scopes,
                expires_at=expires_at,
            )
        except services.StaffTokenRefused as e:
            raise CommandError(str(e)) from None
        expiry = f"expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "never expires"
        self.stdout.write(
            f"Token {staff_token.token_prefix}… created for {username} "
            f"(scopes: {', '.join(staff_token.scopes)}; {expiry}). Copy it now: it will not "
            "be shown again, only its hash is stored."
        )
        self.stdout.write(token)

    def _list(self) -> None:
        tokens = StaffToken.objects.select_related("user").order_by("created_at", "id")
        if not tokens:
            self.stdout.write("No staff tokens.")
            return
        now = timezone.now()
        self.stdout.write("ID\tPREFIX\tUSER\tSCOPES\tLAST USED\tSTATE\tNAME")
        for t in tokens:
            if not t.is_active:
                state = "revoked"
            elif t.expires_at is not None and t.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            last_used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            self.stdout.write(
                f"{t.pk}\t{t.token_prefix}…\t{t.user.get_username()}\t{','.join(t.scopes)}"
                f"\t{last_used}\t{state}\t{t.name}"
            )

    def _revoke(self, ref: str) -> None:
        ref = ref.strip().rstrip("…")
        found = StaffToken.objects.select_related("user")
        if ref.isdigit():
            matches = list(found.filter(pk=int(ref)))
        else:
            matches = list(found.filter(token_prefix=ref))
        if not matches:
            raise CommandError(f"no staff token with id or prefix {ref!r} (see `tokens list`)")
        if len(matches) > 1:
            ids = ", ".join(str(t.pk) for t in matches)
            raise CommandError(f"several tokens start with {ref!r}: revoke by id ({ids})")
        [staff_token] = matches
        if not staff_token.is_active:
            self.stdout.write(f"Token {staff_token.token_prefix}… was already revoked.")
            return
        services.staff_token_revoke(token_id=staff_token.pk)
        self.stdout.write(
            f"Token {staff_token.token_prefix}… of {staff_token.user} revoked: "
            "it can no longer use the API."
        )
