"""`tipline bench pipeline`: reports posted to the bulk API, run through every stage by
workers, timed from receipt to oriented.

Two shapes:
- no worker processes (`workers=0`): every report is posted first, then one worker in
  this process runs the queue dry (the backlog figure, comparable across sessions);
- `workers=N`: N `tipline worker` processes run beside the intake from the start, and the
  reports arrive all at once or at a steady `rate` (the latency a sender sees).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from tipline.common import pipeline
from tipline.intake.models import Report, StageRun

from .models import WorkerHeartbeat
from .worker import PipelineWorker

FEED_TICK_S = 0.1
BULK_BODY = 5_000


@dataclass
class Fed:
    started: float
    wall_start: datetime
    feed_s: float


def run(
    *, client: Client, entries: Sequence[dict[str, Any]], workers: int, rate: float
) -> dict[str, Any]:
    """Post `entries`, have them processed, and return the figures."""
    if Report.objects.exists():
        raise RuntimeError("the database already holds reports: the benchmark needs a fresh one")
    if rate and not workers:
        raise ValueError("--rate needs --workers: reports arriving at a rate need workers running")
    processes = start_workers(workers)
    try:
        wait_alive(processes)
        fed = feed(client, entries, rate)
        if not workers:
            PipelineWorker(worker_id="bench", batch=True, queues=["default"]).run()
        wait_oriented(len(entries), processes)
        seconds = time.perf_counter() - fed.started
    finally:
        stop_workers(processes)
    result = figures(len(entries), fed.wall_start)
    result.update(
        {
            "seconds": round(seconds, 3),
            "reports_per_s": round(len(entries) / seconds, 1),
            "workers": workers,
            "worker_processes": bool(workers),
            "rate_asked": rate or None,
            "feed_per_s": round(len(entries) / max(fed.feed_s, 1e-9), 1),
        }
    )
    return result


def start_workers(n: int) -> list[subprocess.Popen[bytes]]:
    """N `tipline worker` processes on the `default` queue (the pipeline's), sharing this
    process's environment: the same data dir and database. Their output goes to
    `bench-workers.log` in the data dir."""
    env = dict(os.environ)
    env.update(TIPLINE_ANALYZE_NETWORK="off", TIPLINE_RETENTION_DAILY="0")
    log = (settings.DATA_DIR / "bench-workers.log").open("ab")
    return [
        subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [
                sys.executable,
                "-m",
                "tipline.cli",
                "worker",
                "--worker-id",
                f"bench-{i}",
                "--queue",
                "default",
                "--parent-pid",
                str(os.getpid()),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]


def wait_alive(processes: list[subprocess.Popen[bytes]], *, timeout_s: float = 120) -> None:
    """Until every worker has beaten once: the clock starts with the fleet ready."""
    deadline = time.monotonic() + timeout_s
    while WorkerHeartbeat.objects.filter(worker_id__startswith="bench-").count() < len(processes):
        dead = [p.returncode for p in processes if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(
                f"the workers did not start (exit status {dead}); see bench-workers.log"
            )
        time.sleep(0.2)


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def feed(client: Client, entries: Sequence[dict[str, Any]], rate: float) -> Fed:
    """Post the reports to the bulk API: at once, or `rate` per second in bodies sent every
    FEED_TICK_S (sent late rather than skipped when the intake falls behind)."""
    size = max(1, round(rate * FEED_TICK_S)) if rate else BULK_BODY
    started = time.perf_counter()
    fed = Fed(started=started, wall_start=timezone.now(), feed_s=0.0)
    for k, start in enumerate(range(0, len(entries), size)):
        if rate:
            delay = started + k * FEED_TICK_S - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        body = json.dumps(list(entries[start : start + size])).encode()
        response = client.post(
            "/api/v1/reports/bulk", body, content_type="application/json", HTTP_HOST="127.0.0.1"
        )
        if response.status_code != 202 or response.json()["rejected"]:
            raise RuntimeError(f"bulk intake refused: {response.content[:500]!r}")
    fed.feed_s = time.perf_counter() - started
    return fed


def wait_oriented(
    reports: int, processes: list[subprocess.Popen[bytes]], *, poll_s: float = 0.5
) -> None:
    """Until every report is oriented; fails when the workers died or stopped progressing."""
    last, last_change = -1, time.monotonic()
    while True:
        close_old_connections()
        done = StageRun.objects.filter(stage=pipeline.STAGES[-1].name).count()
        if done >= reports:
            return
        dead = [p.returncode for p in processes if p.poll() is not None]
        if dead:
            raise RuntimeError(
                f"{len(dead)} worker(s) exited (status {dead}); {done} oriented; "
                "see bench-workers.log"
            )
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > 300:
            states = dict(
                Report.objects.values("state").annotate(n=Count("id")).values_list("state", "n")
            )
            raise RuntimeError(f"no progress for 5 minutes: {done} of {reports} oriented, {states}")
        time.sleep(poll_s)


def figures(reports: int, wall_start: datetime) -> dict[str, Any]:
    """Latency from receipt to oriented, and throughput over the first and last tenths."""
    done = dict(
        StageRun.objects.filter(stage=pipeline.STAGES[-1].name).values_list(
            "report_id", "finished_at"
        )
    )
    if len(done) != reports:
        raise RuntimeError(f"{len(done)} of {reports} reports oriented")
    received = dict(Report.objects.values_list("id", "received_at"))
    latencies = sorted((done[r] - received[r]).total_seconds() * 1000 for r in done)
    finished = sorted((t - wall_start).total_seconds() for t in done.values())
    tenth = max(1, reports // 10)
    return {
        "reports": reports,
        "latency_p50_ms": round(latencies[len(latencies) // 2], 1),
        "latency_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        # Between orient times, so both ends measure processing alone.
        "first_10pct_per_s": round(tenth / max(finished[tenth] - finished[0], 1e-9), 1),
        "last_10pct_per_s": round(tenth / max(finished[-1] - finished[-tenth - 1], 1e-9), 1),
    }
