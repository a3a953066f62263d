"""Fixtures shared by the whole suite. The suite runs on SQLite, and on PostgreSQL when
TIPLINE_DATABASE_URL points at it (`make test` does both)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.management.commands.db_worker import Worker

from tipline.intake import services
from tipline.intake.models import Provider


@pytest.fixture(autouse=True)
def _evidence_dir(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def provider(db) -> tuple[Provider, str]:  # type: ignore[no-untyped-def]
    return services.provider_create(name="Example Platform")


@pytest.fixture
def api(provider: tuple[Provider, str]) -> Client:
    """A client authenticated as a provider."""
    return Client(headers={"Authorization": f"Bearer {provider[1]}"})


def drain() -> None:
    """Run every task that is ready now, in this process, until none is left."""
    Worker(queue_names=["*"], interval=0, batch=True, backend_name="default",
           startup_delay=False, max_tasks=None, worker_id="test-worker",
           excluded_queue_names=[]).run()


@pytest.fixture
def run_tasks():  # type: ignore[no-untyped-def]
    return drain


def database_url() -> str:
    """A URL other processes can use to reach the test database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def tipline_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TIPLINE_DATABASE_URL"] = database_url()
    env.update(extra)
    return env


def start_tipline(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `tipline <args>` as a real process, its output kept in `log`."""
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "tipline.cli", *args], env=env,
                            stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; all killed at the end, whatever happens."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)
