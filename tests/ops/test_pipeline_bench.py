"""`tipline bench pipeline` with worker processes: run for real, small, on the suite's
database kind (a throwaway PostgreSQL database when the suite runs on PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.test import Client

from tipline.ops import pipeline_bench

from ..processes import instance_env

POSTGRES = os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres")


@pytest.fixture
def bench_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = instance_env(tmp_path)
    if not POSTGRES:
        yield env  # the command makes its own scratch data dir and SQLite database
        return
    name = f"tipline_pbench_{os.getpid()}"
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    env.update(
        TIPLINE_BENCH_KEEP_ENV="1",
        TIPLINE_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
    )
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_worker_processes_take_reports_fed_at_a_rate_to_oriented(bench_env) -> None:
    workers = 4 if POSTGRES else 2
    args = ["pipeline", "--reports", "400", "--workers", str(workers), "--rate", "200", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "tipline.cli", "bench", *args],
        env=bench_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["database"] == ("postgresql" if POSTGRES else "sqlite")
    assert result["reports"] == 400 and result["workers"] == workers
    assert 0 < result["latency_p50_ms"] <= result["latency_p99_ms"]
    # Fed in bodies of 20 every 0.1 s: about 2 s of feeding, not all at once.
    assert result["feed_per_s"] < 400
    assert result["first_10pct_per_s"] > 0 and result["last_10pct_per_s"] > 0


@pytest.mark.django_db
def test_it_refuses_a_database_that_already_holds_reports(client: Client, provider) -> None:
    _provider, token = provider
    sent = client.post(
        "/api/v1/reports",
        {"urls": ["https://ads.example/1"]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code == 201
    with pytest.raises(RuntimeError, match="fresh"):
        pipeline_bench.run(client=client, entries=[], workers=0, rate=0)


@pytest.mark.django_db
def test_a_rate_needs_worker_processes(client: Client) -> None:
    with pytest.raises(ValueError, match="--rate needs --workers"):
        pipeline_bench.run(client=client, entries=[], workers=0, rate=100)
