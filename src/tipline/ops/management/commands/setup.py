from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tipline.console import services as console_services
from tipline.orient import keys


class Command(BaseCommand):
    help = (
        "Migrate the database, load reference data, make this instance's exchange keys, and "
        "create the first analyst login."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        console_services.roles_ensure()
        keys.instance_keys_ensure()  # the partner exchange's keys, made on first run
        created = console_services.first_analyst_create()
        self.stdout.write("Database ready; reference data loaded.")
        kept = [
            name
            for name, env in (
                ("secret_key", "TIPLINE_SECRET_KEY"),
                ("data_key", "TIPLINE_DATA_KEYS"),
            )
            if not os.environ.get(env)
        ]
        if settings.LOCAL_ONLY and kept:
            files = ", ".join(str(settings.DATA_DIR / name) for name in kept)
            self.stdout.write(
                f"Local install: secrets kept in {files} (a deployment takes them from "
                "TIPLINE_SECRET_KEY and TIPLINE_DATA_KEYS; see docs/deployment.md)."
            )
        if created:
            user, password = created
            self.stdout.write(
                self.style.WARNING(
                    "\nFirst analyst login (shown this once; change the password after "
                    "logging in):\n"
                    f"  username: {user.username}\n  password: {password}\n"
                    "  sign in at http://127.0.0.1:8000/admin/\n"
                )
            )
