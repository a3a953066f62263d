"""Prometheus metrics, computed from the database at each scrape: the same answer from any
web process, with no metrics state kept in memory (no multiprocess mode to set up).

Every query is bounded: counts walk indexes of small or indexed sets (tasks, unfinished
reports, outbox states), and stage latency reads only the newest stage runs."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from tipline.common import pipeline
from tipline.common.bulk import chunked
from tipline.intake.models import Report, StageRun
from tipline.orient.models import Dispatch, DispatchState

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)

# Stage latency: from the end of the previous stage (or the report's receipt) to the end of
# this one, queue wait included. Buckets in seconds, 0.5 s to a day.
LATENCY_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0)
# At most this many of the newest stage runs are read per scrape (by primary key).
LATENCY_SAMPLE = 5000
TASK_STATUSES = ("READY", "RUNNING", "FAILED")
REPORT_STATES = (*pipeline.ACTIVE_STATES, pipeline.FAILED)


class TiplineCollector:
    """Queue depth, stage latency, outbox age and errors, read when scraped."""

    def __init__(self, now: Callable[[], datetime] = timezone.now) -> None:
        self.now = now

    def describe(self) -> Iterable[Metric]:
        return []  # nothing is queried when the collector is registered

    def collect(self) -> Iterator[Metric]:
        try:
            found = list(self._collect(self.now()))
        except DatabaseError:
            log.exception("metrics: the database did not answer")
            found = []
        yield from found
        up = GaugeMetricFamily("tipline_up", "1 when the database answered this scrape")
        up.add_metric([], 1.0 if found else 0.0)
        yield up

    def _collect(self, now: datetime) -> Iterator[Metric]:
        yield from _tasks(now)
        yield _reports()
        yield _stage_latency(now, window_s=settings.METRICS_WINDOW_S)
        yield from _outbox(now)
        yield _workers(now)


def _tasks(now: datetime) -> Iterator[Metric]:
    tasks = GaugeMetricFamily(
        "tipline_tasks",
        "Background tasks by queue and status (ready includes retries not yet due; failed "
        "tasks stay until someone looks)",
        labels=["queue", "status"],
    )
    counts = {
        (row["queue_name"], row["status"]): row["n"]
        for row in DBTaskResult.objects.filter(status__in=TASK_STATUSES)
        .values("queue_name", "status")
        .annotate(n=Count("id"))
    }
    for queue in settings.TASKS["default"]["QUEUES"]:
        for status in TASK_STATUSES:
            tasks.add_metric([queue, status.lower()], float(counts.get((queue, status), 0)))
    yield tasks
    oldest = GaugeMetricFamily(
        "tipline_task_oldest_ready_age_seconds",
        "Age of the oldest task due now and not yet taken, by queue (0: none waiting)",
        labels=["queue"],
    )
    firsts = dict(
        DBTaskResult.objects.ready()
        .values("queue_name")
        .annotate(first=Min("enqueued_at"))
        .values_list("queue_name", "first")
    )
    for queue in settings.TASKS["default"]["QUEUES"]:
        first = firsts.get(queue)
        oldest.add_metric([queue], (now - first).total_seconds() if first else 0.0)
    yield oldest


def _reports() -> Metric:
    reports = GaugeMetricFamily(
        "tipline_reports_unfinished",
        "Reports not yet through the pipeline, by state (failed: given up after retries)",
        labels=["state"],
    )
    for state in REPORT_STATES:  # one indexed count each (report_state_idx)
        reports.add_metric([state], float(Report.objects.filter(state=state).count()))
    return reports


STAGE_BEFORE = {
    later.name: earlier.name
    for earlier, later in zip(pipeline.STAGES, pipeline.STAGES[1:], strict=False)
}
STAGE_NAMES = frozenset(s.name for s in pipeline.STAGES)


def stage_latencies(
    runs: Sequence[tuple[int, str, datetime, datetime]],
    previous: dict[tuple[int, str], datetime],
    *,
    since: datetime,
) -> dict[str, list[float]]:
    """Seconds each stage took, queue wait included, for the runs finished since `since`.

    `runs` are (report id, stage, finished at, report received at); `previous` gives when
    a report finished the stage before (the first stage counts from receipt)."""
    out: dict[str, list[float]] = defaultdict(list)
    for report_id, stage, finished_at, received_at in runs:
        if finished_at < since or stage not in STAGE_NAMES:
            continue
        earlier = STAGE_BEFORE.get(stage)
        start = previous.get((report_id, earlier)) if earlier else received_at
        if start is not None:
            out[stage].append(max(0.0, (finished_at - start).total_seconds()))
    return out


def histogram_buckets(
    values: Sequence[float], bounds: Sequence[float] = LATENCY_BUCKETS
) -> list[tuple[str, float]]:
    """Cumulative Prometheus buckets (le, count), +Inf last."""
    buckets = [(str(b), float(sum(v <= b for v in values))) for b in bounds]
    return [*buckets, ("+Inf", float(len(values)))]


def _stage_latency(now: datetime, *, window_s: float) -> Metric:
    since = now - timedelta(seconds=window_s)
    runs = [
        r
        for r in StageRun.objects.order_by("-id").values_list(
            "report_id", "stage", "finished_at", "report__received_at"
        )[:LATENCY_SAMPLE]
        if r[2] >= since
    ]
    wanted = {(r[0], STAGE_BEFORE[r[1]]) for r in runs if r[1] in STAGE_BEFORE}
    previous: dict[tuple[int, str], datetime] = {}
    for part in chunked(sorted({report_id for report_id, _ in wanted})):
        for report_id, stage, finished_at in StageRun.objects.filter(
            report_id__in=part
        ).values_list("report_id", "stage", "finished_at"):
            if (report_id, stage) in wanted:
                previous[report_id, stage] = finished_at
    latencies = stage_latencies(runs, previous, since=since)
    family = HistogramMetricFamily(
        "tipline_stage_latency_seconds",
        f"Time from the end of the previous pipeline stage (or receipt) to the end of this "
        f"one, for stages finished in the last {window_s:g} s (at most the newest "
        f"{LATENCY_SAMPLE} stage runs)",
        labels=["stage"],
    )
    for step in pipeline.STAGES:
        values = latencies.get(step.name, [])
        family.add_metric([step.name], histogram_buckets(values), sum(values))
    return family


def _outbox(now: datetime) -> Iterator[Metric]:
    counts = dict(
        Dispatch.objects.values("state").annotate(n=Count("id")).values_list("state", "n")
    )
    by_state = GaugeMetricFamily(
        "tipline_outbox_messages",
        "Outbox messages by state (failed: refused by the receiver; undeliverable: given up)",
        labels=["state"],
    )
    for state in DispatchState.values:
        by_state.add_metric([state], float(counts.get(state, 0)))
    yield by_state
    start = Dispatch.objects.filter(state=DispatchState.PENDING).aggregate(
        first=Min(Coalesce("queued_at", "created_at"))
    )["first"]
    oldest = GaugeMetricFamily(
        "tipline_outbox_oldest_pending_age_seconds",
        "Age of the oldest message waiting in the outbox to be delivered (0: none)",
    )
    oldest.add_metric([], (now - start).total_seconds() if start else 0.0)
    yield oldest


def _workers(now: datetime) -> Metric:
    alive = WorkerHeartbeat.objects.filter(
        last_seen__gte=now - timedelta(seconds=settings.WORKER_DEAD_AFTER_S)
    ).count()
    workers = GaugeMetricFamily(
        "tipline_workers_alive", "Pipeline workers that sent a heartbeat recently"
    )
    workers.add_metric([], float(alive))
    return workers


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TiplineCollector())  # type: ignore[arg-type]
    return generate_latest(registry)
