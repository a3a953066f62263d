"""SQLite busy: another program holding the write lock on the database file.

A writer waits for the lock (the connection's timeout, WAL mode lets readers through);
past the timeout the API says so and stores nothing; a pipeline stage that cannot get the
lock is retried later, even when recording its failure cannot get the lock either.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.tasks.signals import task_started
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tipline.intake.choices import ReportState
from tipline.intake.models import Report
from tipline.ops.worker import PipelineWorker

from ..conftest import receive_reports

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite's file lock; PostgreSQL locks rows"
    ),
]

REPORT = {"external_id": "busy-1", "urls": ["https://ads.example/busy/1"]}


class WriteLock:
    """Another program's connection to the same database file, holding the write lock."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(
            connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
        )
        self._guard = threading.Lock()

    def take(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        with self._guard:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")

    def release_after(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self.release)
        timer.daemon = True
        timer.start()


@pytest.fixture
def write_lock() -> Iterator[WriteLock]:
    lock = WriteLock()
    yield lock
    lock.release()
    lock.db.close()


@pytest.fixture
def busy_timeout() -> Iterator[Any]:
    """Sets the seconds a connection waits for the lock (30 in settings); new connections
    take it up, in every thread."""
    options = connection.settings_dict["OPTIONS"]
    before = options["timeout"]

    def set_timeout(seconds: float) -> None:
        options["timeout"] = seconds
        connection.close()

    yield set_timeout
    options["timeout"] = before
    connection.close()


def test_a_report_sent_while_another_program_writes_waits_and_is_stored(
    api: Client, write_lock: WriteLock
) -> None:
    write_lock.take()
    write_lock.release_after(1.0)
    started = time.monotonic()
    response = api.post("/api/v1/reports", REPORT, content_type="application/json")
    assert response.status_code == 201, response.content
    assert time.monotonic() - started >= 0.9, "the report did not wait for the lock"
    report = Report.objects.get()
    assert report.id == response.json()["id"] and report.task_id is not None


def test_a_lock_held_past_the_timeout_answers_503_stores_nothing_and_the_resend_works(
    api: Client, write_lock: WriteLock, busy_timeout: Any
) -> None:
    busy_timeout(0.5)
    write_lock.take()
    refused = api.post("/api/v1/reports", REPORT, content_type="application/json")
    assert refused.status_code == 503
    assert refused.json()["detail"] == (
        "the database is unavailable; nothing was stored, please try again later"
    )
    assert refused["Retry-After"] == "60"
    # Readers are not blocked (WAL): nothing was half-stored, no task was queued.
    assert not Report.objects.exists() and not DBTaskResult.objects.exists()

    write_lock.release()
    accepted = api.post("/api/v1/reports", REPORT, content_type="application/json")
    assert accepted.status_code == 201
    assert Report.objects.get().id == accepted.json()["id"]


@pytest.fixture
def lock_when_a_task_starts(write_lock: WriteLock, busy_timeout: Any) -> Iterator[WriteLock]:
    """The other program takes the lock just after a worker has claimed a task, so the
    task's first stage finds the database locked (after waiting 0.3 s for it)."""
    busy_timeout(0.3)
    taken = threading.Event()

    def take(**kwargs: Any) -> None:
        if not taken.is_set():
            taken.set()
            write_lock.take()

    task_started.connect(take, dispatch_uid="busy-test")
    yield write_lock
    task_started.disconnect(dispatch_uid="busy-test")


class ReleaseWhenTheStageFails(logging.Handler):
    """Releases the lock when the stage's failure is logged, just before it is recorded."""

    def __init__(self, lock: WriteLock) -> None:
        super().__init__()
        self.write_lock = lock

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("stage harmonize failed"):
            self.write_lock.release()


def run_worker(worker_id: str) -> None:
    """A real pipeline worker, in this process, until no task is ready."""
    PipelineWorker(worker_id=worker_id, batch=True).run()


def test_a_stage_that_finds_the_database_locked_is_retried_with_backoff_and_ends_oriented(
    settings, lock_when_a_task_starts: WriteLock
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 0.5
    [report_id] = receive_reports(1)
    services_log = logging.getLogger("tipline.intake.services")
    release = ReleaseWhenTheStageFails(lock_when_a_task_starts)
    services_log.addHandler(release)
    try:
        run_worker("busy-1")
    finally:
        services_log.removeHandler(release)
    report = Report.objects.get(id=report_id)
    assert report.state == ReportState.RECEIVED and report.attempts == 1
    assert "database is locked" in report.last_error
    retry = DBTaskResult.objects.get(id=report.task_id)
    assert retry.status == "READY" and retry.run_after is not None  # later, with backoff

    time.sleep(0.6)
    run_worker("busy-2")
    report.refresh_from_db()
    assert report.state == ReportState.ORIENTED and report.attempts == 0


def test_a_failure_that_cannot_be_recorded_while_still_locked_is_not_lost(
    settings, lock_when_a_task_starts: WriteLock
) -> None:
    settings.WORKER_DEAD_AFTER_S = 0.5
    [report_id] = receive_reports(1)
    # The stage, the record of its failure and the task's own result all find it locked:
    # the worker stops (`tipline serve` starts a new one).
    with pytest.raises(Exception, match="database is locked"):
        run_worker("busy-1")
    lock_when_a_task_starts.release()
    report = Report.objects.get(id=report_id)
    assert report.state == ReportState.RECEIVED and report.attempts == 0  # nothing recorded
    assert DBTaskResult.objects.get(id=report.task_id).status == "RUNNING"

    # The next worker's housekeeping takes back the task of the silent one.
    time.sleep(0.6)
    PipelineWorker(worker_id="busy-2").housekeeping()
    run_worker("busy-2")
    report.refresh_from_db()
    assert report.state == ReportState.ORIENTED


def test_a_writer_waits_for_the_lock_in_steps_of_at_most_2_ms(
    api: Client, write_lock: WriteLock, monkeypatch
) -> None:
    """SQLite's own busy handler sleeps up to 100 ms between tries, so a web request
    behind a worker's transactions slept through the moments the lock was free; Tipline's
    backend (tipline.common.sqlite3) tries BEGIN every 0.5 to 2 ms instead."""
    from tipline.common.sqlite3 import base

    pauses: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(base.time, "sleep", sleep)
    write_lock.take()
    write_lock.release_after(0.3)
    response = api.post("/api/v1/reports", REPORT, content_type="application/json")
    assert response.status_code == 201, response.content
    assert len(pauses) > 20 and max(pauses) <= base.LONGEST_PAUSE_S
    # Outside a transaction, statements still wait with SQLite's own busy timeout.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == int(connection.settings_dict["OPTIONS"]["timeout"] * 1000)
