"""Operations' writes: worker heartbeats, the task queue's housekeeping, daily jobs."""

from __future__ import annotations

import logging
import os
import socket
from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .models import DailyRun, WorkerHeartbeat

log = logging.getLogger(__name__)


def worker_heartbeat(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "last_seen": timezone.now(),
        },
    )


def worker_forget(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def tasks_requeue_orphaned(*, dead_after_s: float) -> int:
    """Put back in the queue the tasks held by workers that stopped beating (killed, lost).

    Safe because every stage is atomic and idempotent: a task run again redoes nothing.
    """
    cutoff = timezone.now() - timedelta(seconds=dead_after_s)
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True)
    )
    requeued = 0
    for task in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        holder = task.worker_ids[-1] if task.worker_ids else None
        if holder in alive or (task.started_at and task.started_at >= cutoff):
            continue
        requeued += DBTaskResult.objects.filter(id=task.id, status="RUNNING").update(
            status="READY", started_at=None
        )
        log.warning("task %s was held by silent worker %s: back in the queue", task.id, holder)
    WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - timedelta(days=1)).delete()
    return requeued


def task_results_prune(*, older_than_s: float) -> int:
    """Delete successful task records past their use (reports keep their own history)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    deleted, _ = DBTaskResult.objects.successful().filter(finished_at__lt=cutoff).delete()
    return deleted


def daily_run_claim(*, name: str, day: date, worker_id: str) -> bool:
    """Take the job `name` for `day`; True for exactly one caller per day."""
    DailyRun.objects.get_or_create(name=name)
    return bool(
        DailyRun.objects.filter(name=name)
        .filter(Q(day__isnull=True) | Q(day__lt=day))
        .update(day=day, worker_id=worker_id[:64], started_at=timezone.now(), finished_at=None)
    )


def daily_run_finish(*, name: str, outcome: dict[str, Any]) -> None:
    DailyRun.objects.filter(name=name).update(finished_at=timezone.now(), outcome=outcome)
