"""`tipline serve`: the web app under waitress, with pipeline workers as supervised children."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

from django.conf import settings

log = logging.getLogger(__name__)


class WorkerSupervisor:
    """Keeps N `tipline worker` processes running; restarts any that dies."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.children: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def _spawn(self, n: int) -> subprocess.Popen[bytes]:
        cmd = [
            sys.executable,
            "-m",
            "tipline.cli",
            "worker",
            "--worker-id",
            f"serve-{os.getpid()}-{n}-{int(time.time())}",
            "--parent-pid",
            str(os.getpid()),
        ]
        return subprocess.Popen(cmd)  # noqa: S603 - our own interpreter and module

    def start(self) -> None:
        self.children = [self._spawn(n) for n in range(self.count)]
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for n, child in enumerate(self.children):
                if child.poll() is not None and not self._stopping.is_set():
                    log.warning("worker %s exited with %s: restarting", child.pid, child.returncode)
                    self.children[n] = self._spawn(n)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    from waitress import serve as waitress_serve

    from tipline.wsgi import application

    supervisor = WorkerSupervisor(workers)

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    supervisor.start()
    print(f"Tipline serving on http://{host}:{port}/ with {workers} pipeline worker(s)", flush=True)
    try:
        waitress_serve(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="tipline",
            # waitress refuses larger bodies itself (413), also chunked ones.
            max_request_body_size=max(
                settings.INTAKE_MAX_BULK_BYTES, settings.INTAKE_MAX_REPORT_BYTES
            )
            + 1024 * 1024,
            channel_timeout=60,
        )
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
