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

from tipline.intake import services as intake_services
from tipline.orient import tasks as orient_tasks
from tipline.stats import tasks as stats_tasks

from . import services, tasks

log = logging.getLogger(__name__)

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
