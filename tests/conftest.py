"""Fixtures shared by the whole suite. The suite runs on SQLite, and on PostgreSQL when
TIPLINE_DATABASE_URL points at it (`make test` does both)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.management.commands import db_worker

from tipline.analyze import matching
from tipline.crossref import services as crossref_services
from tipline.intake import core, services
from tipline.intake.choices import Channel
from tipline.intake.models import Provider


@pytest.fixture(autouse=True)
def _evidence_dir(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    # No test reaches the internet: captures and hosting lookups are switched on only by
    # the tests that serve the pages and answer DNS on loopback themselves.
    settings.ANALYZE_NETWORK = False


@pytest.fixture(autouse=True)
def _no_second_factor(settings) -> None:  # type: ignore[no-untyped-def]
    """Staff pages are tested signed in with force_login; the two-factor sign-in itself is
    tested in tests/console/test_access.py, which switches this back on."""
    settings.REQUIRE_2FA = False


@pytest.fixture(autouse=True)
def _fresh_bank_index(settings, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each test starts with an empty in-memory PDQ index and no saved one: bank entry ids
    are reused across tests once their transactions roll back."""
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(
        matching,
        "_bank_index",
        matching.SyncedPDQIndex("pdq-index", matching._bank_rows_after, matching._bank_rows_among),
    )
    monkeypatch.setattr(
        crossref_services,
        "media_index",
        matching.SyncedPDQIndex(
            "media-pdq-index",
            crossref_services._media_rows_after,
            crossref_services._media_rows_among,
        ),
    )


@pytest.fixture
def provider(db) -> tuple[Provider, str]:  # type: ignore[no-untyped-def]
    return services.provider_create(name="Example Platform")


@pytest.fixture
def api(provider: tuple[Provider, str]) -> Client:
    """A client authenticated as a provider."""
    return Client(headers={"Authorization": f"Bearer {provider[1]}"})


def drain() -> None:
    """Run every task that is ready now, in this process, until none is left."""
    # The worker loop closes "old" connections between tasks, which would close the test's
    # connection inside its transaction; Django's TestCase disables the same for requests.
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        db_worker.Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()


@pytest.fixture
def run_tasks():  # type: ignore[no-untyped-def]
    return drain


def receive_reports(n: int = 1, *, pages: int | None = None) -> list[int]:
    """Store n public reports (committed with their tasks, as intake does) and return ids;
    with `pages`, the reports point at that many pages in turn."""
    drafts = [
        (
            i,
            core.parse_report(
                {"urls": [f"https://ads.example/{i % (pages or n)}"]}, max_media_bytes=1024
            ),
        )
        for i in range(n)
    ]
    outcomes = services.reports_receive(drafts=drafts, channel=Channel.PUBLIC)
    return [o.report_id for o in outcomes if isinstance(o, services.Received)]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def database_url() -> str:
    """A URL other processes can use to reach the test database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user, host, port = s["USER"] or "postgres", s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{s['NAME']}"


def tipline_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TIPLINE_DATABASE_URL"] = database_url()
    env["TIPLINE_ANALYZE_NETWORK"] = "off"
    env.update(extra)
    return env


def start_tipline(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `tipline <args>` as a real process, its output kept in `log`."""
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "tipline.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; all killed at the end, whatever happens."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def staff_user(username: str, role: str = "analyst") -> Any:
    """A staff member holding one role (a Django group with its permissions)."""
    from django.contrib.auth.models import Group, User

    from tipline.console import services as console

    console.roles_ensure()
    user = User.objects.create_user(username, is_staff=True)  # no password: no hashing cost
    user.groups.add(Group.objects.get(name=role))
    return user
