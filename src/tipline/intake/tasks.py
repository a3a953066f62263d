"""Intake's background entry point: the pipeline runner task."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import TaskContext, task
from django.utils import timezone

from . import services


@task(takes_context=True)
def process_reports(context: TaskContext, report_ids: list[int]) -> None:
    """Move these reports through every stage they still need (retries are scheduled inside)."""
    worker_ids = context.task_result.worker_ids
    services.reports_advance(report_ids=report_ids, worker_id=worker_ids[-1] if worker_ids else "")


def enqueue_reports(report_ids: list[int], delay_s: float) -> str:
    task = process_reports
    if delay_s > 0:
        task = process_reports.using(run_after=timezone.now() + timedelta(seconds=delay_s))
    return task.enqueue(report_ids=report_ids).id
