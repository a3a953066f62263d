from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from tipline.ops.worker import PipelineWorker, new_worker_id


class Command(BaseCommand):
    help = "Run a pipeline worker (start several, on one or many machines, to scale out)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--worker-id", default=None, help="unique across the fleet")
        parser.add_argument(
            "--parent-pid",
            type=int,
            default=None,
            help="stop when this process is gone (used by `tipline serve`)",
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            default=None,
            help="take tasks only from this queue (repeatable; default: every queue)",
        )

    def handle(
        self,
        *args: Any,
        worker_id: str | None,
        parent_pid: int | None,
        max_tasks: int | None,
        batch: bool,
        queues: list[str] | None,
        **options: Any,
    ) -> None:
        worker = PipelineWorker(
            worker_id=worker_id or new_worker_id(),
            parent_pid=parent_pid,
            max_tasks=max_tasks,
            batch=batch,
            queues=queues,
        )
        worker.configure_signals()
        worker.run()
