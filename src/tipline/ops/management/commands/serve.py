from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tipline.ops.server import serve


class Command(BaseCommand):
    help = "Serve the web app and the API, with embedded pipeline workers (TIPLINE_TASK_WORKERS)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.TASK_WORKERS,
            help="pipeline worker processes to run beside the server "
            "(default TIPLINE_TASK_WORKERS; 0 when a fleet runs them)",
        )
        parser.add_argument("--threads", type=int, default=8, help="HTTP worker threads")

    def handle(
        self, *args: Any, host: str, port: int, workers: int, threads: int, **options: Any
    ) -> None:
        serve(host=host, port=port, workers=workers, threads=threads)
