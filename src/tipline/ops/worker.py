"""The pipeline worker: django-tasks-db's worker loop, plus heartbeats and housekeeping."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from tipline.intake import services as intake_services
from tipline.orient import tasks as orient_tasks
from tipline.stats import tasks as stats_tasks

from . import services, tasks

log = logging.getLogger(__name__)

PROCESS_REPORTS = "tipline.intake.tasks.process_reports"
HOUSEKEEPING_EVERY_S = 60.0
STALL_AFTER_S = 600.0
TASK_RESULT_RETENTION_S = 86_400.0


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}"


class PipelineWorker(Worker):
    """Runs pipeline tasks; beats every few seconds so others can tell it is alive; takes
    back the tasks of workers that stopped beating; re-queues reports whose task was lost."""

    def __init__(
        self,
        *,
        worker_id: str,
        parent_pid: int | None = None,
        max_tasks: int | None = None,
        batch: bool = False,
        queues: list[str] | None = None,
    ) -> None:
        super().__init__(
            queue_names=queues or ["*"],
            interval=settings.WORKER_POLL_S,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.parent_pid = parent_pid
        self._stopped = threading.Event()
        self._last_housekeeping = 0.0

    def run(self) -> None:
        services.worker_heartbeat(worker_id=self.worker_id)
        beat = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        beat.start()
        try:
            super().run()
        finally:
            self._stopped.set()
            beat.join(timeout=5)
            services.worker_forget(worker_id=self.worker_id)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Pipeline tasks waiting beside this one are claimed with it and run as one batch
        (up to PIPELINE_GATHER reports): single reports arriving one request at a time are
        processed together, so a stage's fixed costs are paid once per batch, not per
        report. A worker killed meanwhile leaves them all RUNNING under its id, taken
        back by the others like any orphaned task."""
        if db_task_result.task_path != PROCESS_REPORTS:
            super().run_task(db_task_result)
            return
        group = [db_task_result, *self._claim_companions(db_task_result)]
        if len(group) == 1:
            super().run_task(db_task_result)
            return
        self.running_task = True
        try:
            report_ids = sorted({rid for task in group for rid in _report_ids(task)})
            intake_services.reports_advance(report_ids=report_ids, worker_id=self.worker_id)
            done = {"status": "SUCCESSFUL", "finished_at": timezone.now(), "return_value": None}
            DBTaskResult.objects.filter(id__in=[t.id for t in group]).update(**done)
            log.info("ran %s pipeline tasks together: %s reports", len(group), len(report_ids))
        except BaseException as exc:  # as django-tasks-db does: recorded, the loop goes on
            log.exception("pipeline tasks %s failed", [str(t.id) for t in group])
            for task in group:
                task.set_failed(exc)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _claim_companions(self, first: DBTaskResult) -> list[DBTaskResult]:
        room = settings.PIPELINE_GATHER - len(_report_ids(first))
        if room <= 0:
            return []
        claimed: list[DBTaskResult] = []
        with exclusive_transaction(DBTaskResult.objects.db):
            waiting = (
                DBTaskResult.objects.ready()
                .filter(
                    backend_name=first.backend_name,
                    queue_name=first.queue_name,
                    task_path=PROCESS_REPORTS,
                )
                .exclude(id=first.id)
                .select_for_update(skip_locked=True)[:room]
            )
            for task in waiting:
                room -= len(_report_ids(task))
                if room < 0:
                    break
                task.claim(self.worker_id)
                claimed.append(task)
        return claimed

    def _beat(self) -> None:
        while not self._stopped.wait(settings.WORKER_HEARTBEAT_S):
            try:
                self.housekeeping()
            except Exception:
                log.exception("worker housekeeping failed; trying again at the next beat")
            finally:
                close_old_connections()
            if self.parent_pid and os.getppid() != self.parent_pid:
                log.warning("parent process %s is gone: stopping", self.parent_pid)
                self.running = False
        connection.close()

    def housekeeping(self) -> None:
        services.worker_heartbeat(worker_id=self.worker_id)
        services.tasks_requeue_orphaned(dead_after_s=settings.WORKER_DEAD_AFTER_S)
        now = time.monotonic()
        if now - self._last_housekeeping >= HOUSEKEEPING_EVERY_S:
            self._last_housekeeping = now
            intake_services.reports_resume_stalled(older_than_s=STALL_AFTER_S)
            services.task_results_prune(older_than_s=TASK_RESULT_RETENTION_S)
            orient_tasks.housekeeping()
            stats_tasks.housekeeping()  # queues a refresh of the statistics when stale
            if settings.RETENTION_DAILY:
                self.retention_daily()

    def retention_daily(self) -> bool:
        """Queue today's retention run if no worker has yet (one claim per UTC day, made
        in the same transaction as the task, so the day is never claimed and lost)."""
        with transaction.atomic():
            claimed = services.daily_run_claim(
                name=tasks.RETENTION_JOB, day=timezone.now().date(), worker_id=self.worker_id
            )
            if claimed:
                tasks.retention_run.enqueue()
        return claimed


def _report_ids(task: DBTaskResult) -> list[int]:
    return list(task.args_kwargs.get("kwargs", {}).get("report_ids", []))
