"""Pipeline tasks of single reports, waiting side by side, run as one batch."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import override_settings
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tipline.intake.models import Report, StageRun
from tipline.ops import worker as ops_worker
from tipline.ops.worker import PipelineWorker

from ..conftest import receive_reports

pytestmark = pytest.mark.django_db


def pipeline_tasks():  # type: ignore[no-untyped-def]
    return DBTaskResult.objects.filter(task_path=ops_worker.PROCESS_REPORTS)


def run_worker() -> None:
    """PipelineWorker's task loop in this process, inside the test's transaction: without
    its heartbeat thread (another connection) and keeping the test's connection open."""
    worker = PipelineWorker(worker_id="batcher", batch=True, queues=["default"])
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        Worker.run(worker)


def test_single_report_tasks_waiting_together_are_run_as_one_batch() -> None:
    ids = [rid for _ in range(7) for rid in receive_reports(1)]  # seven tasks of one report
    assert pipeline_tasks().count() == 7
    run_worker()
    assert set(Report.objects.values_list("state", flat=True)) == {"oriented"}
    assert set(pipeline_tasks().values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert all(t.worker_ids == ["batcher"] for t in pipeline_tasks())
    # One transaction per stage for all seven: their stage runs share its timestamp.
    for stage in ("harmonize", "analyze", "crossref", "orient"):
        finished = StageRun.objects.filter(stage=stage, report_id__in=ids)
        assert finished.count() == 7
        assert len(set(finished.values_list("finished_at", flat=True))) == 1, stage


@override_settings(PIPELINE_GATHER=3)
def test_a_batch_gathers_at_most_pipeline_gather_reports() -> None:
    receive_reports(2)  # one task of two reports
    for _ in range(4):
        receive_reports(1)
    run_worker()
    assert set(Report.objects.values_list("state", flat=True)) == {"oriented"}
    batches = {
        t for t in StageRun.objects.filter(stage="harmonize").values_list("finished_at", flat=True)
    }
    assert len(batches) == 2  # 2 + 1 reports, then 1 + 1 + 1


def test_tasks_not_yet_due_or_of_other_kinds_are_left_alone() -> None:
    from datetime import timedelta

    from django.utils import timezone

    [now_id] = receive_reports(1)
    [later_id] = receive_reports(1)
    later = DBTaskResult.objects.get(id=Report.objects.get(id=later_id).task_id)
    later.run_after = timezone.now() + timedelta(hours=1)  # a retry backing off
    later.save(update_fields=["run_after"])
    run_worker()
    assert Report.objects.get(id=now_id).state == "oriented"
    assert Report.objects.get(id=later_id).state == "received"
    later.refresh_from_db()
    assert later.status == "READY"
