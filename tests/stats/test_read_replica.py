"""TIPLINE_READ_DATABASE_URL: the statistics dashboard reads its figures from the read
replica, and nothing else does (sign-in, sessions, the `tipline stats` commands read the
primary). Shown with two SQLite files holding different figures, in an instance of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "runs on its own SQLite data dir (the routing is the same on any database); once per "
        "suite is enough",
        allow_module_level=True,
    )

SCRIPT = """
import sqlite3
from datetime import date
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from tipline.stats import selectors
from tipline.stats.models import DailyCount

call_command("setup", verbosity=0)
# The replica starts as a copy of the primary, as replication makes it; then they differ.
primary = sqlite3.connect(settings.DATABASES["default"]["NAME"])
primary.backup(sqlite3.connect(settings.DATABASES["replica"]["NAME"]))
for alias, n in (("default", 5), ("replica", 7)):
    DailyCount.objects.using(alias).create(
        day=date(2025, 3, 4), theme="fraud", figure="reports", key="public", n=n
    )
# Written to the primary only, after the copy: the page must find them there.
user = User.objects.create_user("stats-reader", is_staff=True)
user.user_permissions.add(Permission.objects.get(codename="view_statistics"))
client = Client()
client.force_login(user)
for page in ("/stats/csv/channels", "/stats/"):
    answer = client.get(page + "?start=2025-03-01&end=2025-03-31", HTTP_HOST="127.0.0.1")
    print("PAGE", page, answer.status_code)
    if page.endswith("channels"):
        print(answer.content.decode())
print("PRIMARY", selectors.dashboard(year=2025).volumes.reports)
"""


def test_the_dashboard_reads_the_replica_and_sign_in_the_primary(tmp_path: Path) -> None:
    root = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(root),
        TIPLINE_READ_DATABASE_URL=f"sqlite:///{root / 'replica.sqlite3'}",
        TIPLINE_REQUIRE_2FA="0",
    )
    out = subprocess.run(
        [sys.executable, "-m", "tipline.cli", "shell", "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # The staff member exists on the primary alone, and was let in: sign-in read the primary.
    assert "PAGE /stats/csv/channels 200" in out and "PAGE /stats/ 200" in out
    assert "Public web form,7" in out  # the replica's figure
    assert "PRIMARY 5" in out  # selectors read the primary unless told otherwise
