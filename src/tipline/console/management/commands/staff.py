"""`tipline staff add NAME --role ROLE [--office CODE]`: a staff account, its password
shown once; `tipline staff list`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from tipline.console import roles, services


class Command(BaseCommand):
    help = "Staff accounts: add one with a role (and, for liaison officers, their office)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a staff account; prints its password once")
        add.add_argument("username")
        add.add_argument("--role", required=True, choices=roles.ROLES)
        add.add_argument(
            "--office",
            action="append",
            default=[],
            help="liaison officers: code of an office whose dispatches they see (repeatable)",
        )
        sub.add_parser("list", help="staff accounts and their roles")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        services.roles_ensure()
        if action == "list":
            for user in User.objects.filter(is_staff=True).order_by("username"):
                groups = ",".join(user.groups.values_list("name", flat=True)) or "-"
                offices = ",".join(user.liaison_offices.values_list("code", flat=True))
                self.stdout.write(f"{user.username}\t{groups}\t{offices}")
            return
        try:
            _user, password = services.staff_create(
                username=options["username"], role=options["role"], offices=tuple(options["office"])
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{options['username']} ({options['role']}) password: {password}\n"
            "Shown once: they enrol their authenticator at the first sign-in."
        )
