"""GET /metrics: refused without the metrics token; with it, Prometheus' text format with
queue depth, stage latency, outbox age, errors and live workers, read from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tipline.intake.models import Report, StageRun
from tipline.ops import metrics
from tipline.ops.models import WorkerHeartbeat
from tipline.orient.models import Dispatch

from ..conftest import receive_reports

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(token: str = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_are_refused_without_the_token(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"tipline_" not in response.content
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 403
    basic = Client().get("/metrics", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_without_a_configured_token_metrics_answer_no_one(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 403


def stage_runs(report_id: int, received: datetime, *seconds: float) -> None:
    """Stages finished `seconds` apart, starting at `received`."""
    at = received
    for stage, s in zip(("harmonize", "analyze", "crossref", "orient"), seconds, strict=False):
        at += timedelta(seconds=s)
        StageRun.objects.create(report_id=report_id, stage=stage, finished_at=at)


def test_a_scrape_shows_queues_latency_outbox_errors_and_workers(token: str) -> None:
    now = timezone.now()
    done = receive_reports(2)
    waiting = receive_reports(3)  # a second task, three reports waiting
    received = now - timedelta(seconds=100)
    Report.objects.filter(id__in=done).update(received_at=received, state="oriented")
    stage_runs(done[0], received, 2, 10, 30, 0.2)
    stage_runs(done[1], received, 2, 200)
    Report.objects.filter(id=waiting[0]).update(state="failed")
    Dispatch.objects.create(
        kind="alert",
        state="pending",
        address="duty@hotline.example",
        created_at=now - timedelta(seconds=900),
        queued_at=now - timedelta(seconds=120),
    )
    Dispatch.objects.create(
        kind="alert", state="undeliverable", address="duty@hotline.example", created_at=now
    )
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, last_seen=now)
    WorkerHeartbeat.objects.create(
        worker_id="w2", hostname="h", pid=2, last_seen=now - timedelta(hours=1)
    )

    got = scrape(token)
    assert got["tipline_up", ()] == 1
    assert got["tipline_tasks", (("queue", "default"), ("status", "ready"))] == 2
    assert got["tipline_tasks", (("queue", "default"), ("status", "failed"))] == 0
    assert got["tipline_tasks", (("queue", "outside"), ("status", "ready"))] == 0
    assert got["tipline_task_oldest_ready_age_seconds", (("queue", "default"),)] >= 0
    assert got["tipline_reports_unfinished", (("state", "received"),)] == 2
    assert got["tipline_reports_unfinished", (("state", "failed"),)] == 1
    assert got["tipline_outbox_messages", (("state", "pending"),)] == 1
    assert got["tipline_outbox_messages", (("state", "undeliverable"),)] == 1
    assert got["tipline_outbox_messages", (("state", "acknowledged"),)] == 0
    assert 119 <= got["tipline_outbox_oldest_pending_age_seconds", ()] < 180
    assert got["tipline_workers_alive", ()] == 1

    def bucket(stage: str, le: str) -> float:
        return got["tipline_stage_latency_seconds_bucket", (("le", le), ("stage", stage))]

    # harmonize: 2 s after receipt, twice; analyze: 10 s and 200 s after harmonize.
    assert bucket("harmonize", "1.0") == 0 and bucket("harmonize", "5.0") == 2
    assert got["tipline_stage_latency_seconds_count", (("stage", "harmonize"),)] == 2
    assert bucket("analyze", "15.0") == 1 and bucket("analyze", "300.0") == 2
    assert got["tipline_stage_latency_seconds_sum", (("stage", "analyze"),)] == pytest.approx(210)
    assert bucket("crossref", "60.0") == 1 and bucket("orient", "0.5") == 1
    assert bucket("orient", "+Inf") == 1


def test_latency_counts_only_the_window(token: str, settings: Any) -> None:
    settings.METRICS_WINDOW_S = 60
    [old, recent] = receive_reports(2)
    now = timezone.now()
    stage_runs(old, now - timedelta(seconds=600), 5)
    stage_runs(recent, now - timedelta(seconds=30), 5)
    got = scrape(token)
    assert got["tipline_stage_latency_seconds_count", (("stage", "harmonize"),)] == 1


def test_stage_latencies_measure_from_the_previous_stage_or_receipt() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    s = timedelta(seconds=1)
    runs = [
        (1, "harmonize", t0 + 3 * s, t0),
        (1, "analyze", t0 + 10 * s, t0),
        (2, "analyze", t0 + 10 * s, t0),  # its harmonize run is not known: skipped
        (3, "harmonize", t0 - 100 * s, t0 - 200 * s),  # before the window
    ]
    previous = {(1, "harmonize"): t0 + 3 * s}
    got = metrics.stage_latencies(runs, previous, since=t0 - 10 * s)
    assert got == {"harmonize": [3.0], "analyze": [7.0]}
    assert metrics.histogram_buckets([0.2, 3.0, 7.0], (1.0, 5.0)) == [
        ("1.0", 1.0),
        ("5.0", 2.0),
        ("+Inf", 3.0),
    ]
