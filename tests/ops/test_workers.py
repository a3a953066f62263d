"""Real `tipline worker` processes on the test database: killed mid-stage, and side by side."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tipline.common import pipeline
from tipline.harmonize.models import Item, ReportItem
from tipline.intake.choices import ReportState
from tipline.intake.models import Report, StageRun
from tipline.ops.models import WorkerHeartbeat

from ..conftest import receive_reports, start_tipline, tipline_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAST = {
    "TIPLINE_WORKER_POLL_S": "0.1",
    "TIPLINE_WORKER_HEARTBEAT_S": "0.3",
    # A heartbeat waits for SQLite's write lock like any write: under load, 2 s was too short
    # and a busy worker was taken for dead.
    "TIPLINE_WORKER_DEAD_AFTER_S": "5",
}


def stages_done(state: str) -> set[str]:
    """The stages a report in `state` has completed."""
    done = set()
    for stage in pipeline.STAGES:
        if state == stage.from_state:
            break
        done.add(stage.name)
    return done


def assert_consistent() -> None:
    """Every report is wholly at one state: its recorded stage runs are exactly those before."""
    runs: dict[int, list[str]] = {}
    for rid, stage in StageRun.objects.values_list("report_id", "stage"):
        runs.setdefault(rid, []).append(stage)
    for rid, state in Report.objects.values_list("id", "state"):
        assert sorted(runs.get(rid, [])) == sorted(stages_done(state)), (rid, state, runs.get(rid))


def pipeline_tasks():  # type: ignore[no-untyped-def]
    """The pipeline's own tasks (Analyze also queues capture and hosting jobs)."""
    return DBTaskResult.objects.filter(task_path="tipline.intake.tasks.process_reports")


def all_tasks_done() -> bool:
    return not pipeline_tasks().exclude(status__in=["SUCCESSFUL", "FAILED"]).exists()


def all_oriented() -> bool:
    return not Report.objects.exclude(state=ReportState.ORIENTED).exists()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_worker_killed_mid_stage_loses_nothing_and_duplicates_nothing(
    seed: int, processes, tmp_path: Path
) -> None:
    ids = receive_reports(5)
    slow = tipline_env(TIPLINE_PIPELINE_STAGE_DELAY_S="0.8", **FAST)
    first = start_tipline("worker", "--worker-id", "first", env=slow, log=tmp_path / "first.log")
    processes.append(first)
    wait_for(lambda: DBTaskResult.objects.filter(status="RUNNING").exists(), 30, "a task to start")
    # Somewhere inside the first or second stage (each holds its transaction 0.8 s).
    time.sleep(random.Random(seed).uniform(0.1, 1.5))
    first.kill()
    first.wait(10)
    assert_consistent()
    assert not all_oriented()

    second = start_tipline(
        "worker", "--worker-id", "second", env=tipline_env(**FAST), log=tmp_path / "second.log"
    )
    processes.append(second)
    wait_for(all_oriented, 60, "every report to be oriented after the kill")
    assert_consistent()
    assert StageRun.objects.filter(report_id__in=ids).count() == len(ids) * len(pipeline.STAGES)
    # The task is marked done in its own write just after its last stage commits.
    wait_for(all_tasks_done, 30, "the task to be marked done")
    [task] = pipeline_tasks()
    assert task.status == "SUCCESSFUL"
    assert task.worker_ids == ["first", "second"]


def test_two_workers_process_every_report_exactly_once(processes, tmp_path: Path, settings) -> None:
    env = tipline_env(TIPLINE_PIPELINE_STAGE_DELAY_S="0.01", **FAST)
    for name in ("w1", "w2"):
        processes.append(
            start_tipline("worker", "--worker-id", name, env=env, log=tmp_path / f"{name}.log")
        )
    wait_for(lambda: WorkerHeartbeat.objects.count() == 2, 30, "both workers to start")
    settings.PIPELINE_CHUNK = 5
    # Every task holds one report for each of 5 pages, so the two workers always meet.
    ids = receive_reports(200, pages=5)
    wait_for(all_oriented, 120, "two workers to orient 200 reports")
    assert_consistent()
    assert StageRun.objects.filter(report_id__in=ids).count() == 200 * len(pipeline.STAGES)
    workers = set(StageRun.objects.values_list("worker_id", flat=True))
    if connection.vendor == "postgresql":
        assert workers == {"w1", "w2"}  # SKIP LOCKED: both take tasks side by side
    else:
        # SQLite's lock has no fairness: one busy writer may starve the other worker.
        assert workers <= {"w1", "w2"}
    # Workers met the same new pages at the same time: still one item each, counted right.
    assert Item.objects.count() == 5
    assert set(Item.objects.values_list("report_count", flat=True)) == {40}
    assert ReportItem.objects.count() == 200
    wait_for(all_tasks_done, 30, "every task to be marked done")
    tasks = list(pipeline_tasks())
    assert len(tasks) == 40
    assert [t.id for t in tasks if t.status != "SUCCESSFUL"] == []
    # Each task ran on one worker, unless a worker stalled past WORKER_DEAD_AFTER_S (a busy
    # machine) and the other took its task back, which it logs; the stages being
    # idempotent, the reports above were still processed exactly once.
    logs = "".join((tmp_path / f"{name}.log").read_text() for name in ("w1", "w2"))
    shared = [t for t in tasks if len(t.worker_ids) != 1]
    assert [
        (str(t.id), t.worker_ids) for t in shared if f"task {t.id} was held by silent" not in logs
    ] == []
