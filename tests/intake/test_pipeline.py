"""The pipeline runner: states in order, atomic idempotent stages, retries, failure record."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline.common import pipeline
from tipline.intake import core, services
from tipline.intake.choices import Channel, ReportState
from tipline.intake.models import Report, StageRun
from tipline.ops import services as ops_services
from tipline.ops.models import WorkerHeartbeat

from ..conftest import receive_reports as receive

pytestmark = pytest.mark.django_db


def state(report_id: int) -> str:
    return Report.objects.get(id=report_id).state


class Flaky:
    """A stage step that fails for the given reports a number of times, then works."""

    def __init__(self, failures: int, only: set[int] | None = None) -> None:
        self.failures = failures
        self.only = only
        self.calls: list[list[int]] = []

    def __call__(self, report_ids: Sequence[int]) -> None:
        self.calls.append(list(report_ids))
        if self.failures and (self.only is None or self.only & set(report_ids)):
            self.failures -= 1 if self.only is None or len(report_ids) == 1 else 0
            raise RuntimeError("partner directory unreachable")


@pytest.fixture
def replace_step(monkeypatch):  # type: ignore[no-untyped-def]
    """Put `step(report_ids)` in place of a stage's step, with no prepare phase."""

    def replace(stage: str, step: Callable[[Sequence[int]], None]) -> None:
        monkeypatch.setitem(pipeline._steps, stage, lambda ids, _prepared: step(ids))
        monkeypatch.delitem(pipeline._prepares, stage, raising=False)

    return replace


def test_a_report_goes_through_every_state_in_order(run_tasks) -> None:
    [rid] = receive()
    assert state(rid) == ReportState.RECEIVED
    run_tasks()
    assert state(rid) == ReportState.ORIENTED
    runs = list(StageRun.objects.filter(report_id=rid).order_by("finished_at", "id"))
    assert [r.stage for r in runs] == ["harmonize", "analyze", "crossref", "orient"]
    assert all(r.worker_id == "test-worker" for r in runs)


def test_receiving_enqueues_in_the_same_transaction() -> None:
    ids = receive(3)
    report = Report.objects.get(id=ids[0])
    task = DBTaskResult.objects.get(id=report.task_id)
    assert task.status == "READY"
    assert sorted(task.args_kwargs["kwargs"]["report_ids"]) == sorted(ids)


def test_running_a_task_twice_duplicates_nothing(run_tasks) -> None:
    [rid] = receive()
    run_tasks()
    services.reports_advance(report_ids=[rid], worker_id="again")
    assert StageRun.objects.filter(report_id=rid).count() == 4
    assert state(rid) == ReportState.ORIENTED


def test_a_failing_stage_is_retried_with_backoff_then_succeeds(
    run_tasks, monkeypatch, settings, replace_step
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 0
    flaky = Flaky(failures=2)
    replace_step("analyze", flaky)
    [rid] = receive()
    run_tasks()
    report = Report.objects.get(id=rid)
    assert report.state == ReportState.ORIENTED
    assert report.attempts == 0 and report.last_error == ""
    assert len(flaky.calls) == 3
    # harmonize ran once; its work was not repeated by the retries
    assert StageRun.objects.filter(report_id=rid, stage="harmonize").count() == 1


def test_a_retry_waits_for_its_backoff(monkeypatch, settings, run_tasks, replace_step) -> None:
    settings.PIPELINE_RETRY_BASE_S = 60
    replace_step("analyze", Flaky(failures=1))
    [rid] = receive()
    run_tasks()  # the retry is not due yet, so it is not run
    report = Report.objects.get(id=rid)
    assert report.state == ReportState.HARMONIZED
    assert report.attempts == 1
    assert report.last_error == "RuntimeError: partner directory unreachable"
    retry = DBTaskResult.objects.get(id=report.task_id)
    assert retry.status == "READY"
    wait = (retry.run_after - timezone.now()).total_seconds()
    assert 55 < wait <= 60


@pytest.mark.parametrize(("attempt", "expected"), [(1, 5), (2, 10), (3, 20), (12, 3600)])
def test_backoff_doubles_up_to_a_cap(attempt: int, expected: float) -> None:
    assert pipeline.retry_delay(attempt, base_s=5, max_s=3600) == expected


def test_a_report_that_keeps_failing_is_marked_failed_with_its_error(
    monkeypatch, settings, run_tasks, replace_step
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 0
    settings.PIPELINE_MAX_ATTEMPTS = 3
    replace_step("crossref", Flaky(failures=99))
    [rid] = receive()
    run_tasks()
    report = Report.objects.get(id=rid)
    assert report.state == ReportState.FAILED
    assert report.failed_stage == "crossref"
    assert report.attempts == 3
    assert "partner directory unreachable" in report.last_error
    assert not StageRun.objects.filter(report_id=rid, stage="crossref").exists()


def test_one_bad_report_does_not_hold_back_the_others_in_its_batch(
    monkeypatch, settings, run_tasks, replace_step
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 0
    settings.PIPELINE_MAX_ATTEMPTS = 2
    ids = receive(5)
    bad = ids[2]
    replace_step("analyze", Flaky(failures=99, only={bad}))
    run_tasks()
    states = dict(Report.objects.values_list("id", "state"))
    assert states.pop(bad) == ReportState.FAILED
    assert set(states.values()) == {ReportState.ORIENTED}


def test_a_stage_that_fails_leaves_none_of_its_writes(
    monkeypatch, settings, run_tasks, replace_step
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 60

    def writes_then_fails(report_ids: Sequence[int]) -> None:
        WorkerHeartbeat.objects.create(
            worker_id="half-done", hostname="h", pid=1, last_seen=timezone.now()
        )
        raise RuntimeError("crash after a write")

    replace_step("harmonize", writes_then_fails)
    [rid] = receive()
    run_tasks()
    assert not WorkerHeartbeat.objects.filter(worker_id="half-done").exists()
    assert state(rid) == ReportState.RECEIVED


def test_a_failed_report_can_be_retried_from_where_it_stopped(
    monkeypatch, settings, run_tasks, replace_step
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 0
    settings.PIPELINE_MAX_ATTEMPTS = 1
    replace_step("orient", Flaky(failures=1))
    [rid] = receive()
    run_tasks()
    assert state(rid) == ReportState.FAILED
    services.report_retry(report_id=rid)
    run_tasks()
    assert state(rid) == ReportState.ORIENTED
    assert StageRun.objects.filter(report_id=rid).count() == 4
    with pytest.raises(ValueError, match="not failed"):
        services.report_retry(report_id=rid)


def test_reports_whose_task_was_lost_are_requeued(run_tasks) -> None:
    lost, waiting = receive(1), receive(1)
    DBTaskResult.objects.filter(id=Report.objects.get(id=lost[0]).task_id).update(status="FAILED")
    long_ago = timezone.now() - timedelta(hours=1)
    Report.objects.filter(id__in=lost + waiting).update(state_changed_at=long_ago)
    assert services.reports_resume_stalled(older_than_s=600) == 1
    run_tasks()
    assert state(lost[0]) == ReportState.ORIENTED
    assert state(waiting[0]) == ReportState.ORIENTED


def test_a_task_held_by_a_silent_worker_goes_back_to_the_queue() -> None:
    receive(1), receive(1)  # one task each
    dead, alive = DBTaskResult.objects.order_by("enqueued_at")[:2]
    long_ago = timezone.now() - timedelta(minutes=5)
    for task, worker in ((dead, "gone"), (alive, "beating")):
        DBTaskResult.objects.filter(id=task.id).update(
            status="RUNNING", worker_ids=[worker], started_at=long_ago
        )
    WorkerHeartbeat.objects.create(worker_id="gone", hostname="h", pid=1, last_seen=long_ago)
    ops_services.worker_heartbeat(worker_id="beating")
    assert ops_services.tasks_requeue_orphaned(dead_after_s=30) == 1
    assert DBTaskResult.objects.get(id=dead.id).status == "READY"
    assert DBTaskResult.objects.get(id=alive.id).status == "RUNNING"


def test_a_stored_report_cannot_be_edited() -> None:
    [rid] = receive()
    report = Report.objects.get(id=rid)
    report.description = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        report.save()
    report.refresh_from_db()
    report.state = ReportState.FAILED
    report.save(update_fields=["state"])  # processing state may change


def test_prepare_phases_run_outside_the_transaction_and_their_results_are_used(
    monkeypatch, run_tasks
) -> None:
    """Harmonize, analyze and cross-reference scan texts, fingerprint files and compute
    texts' LSH bands before their transaction, so a second worker can compute while
    another writes; the step uses that work."""
    from django.db import connection

    from tipline.analyze import services as analyze
    from tipline.analyze.models import IndicatorHit, Observable
    from tipline.crossref import core as crossref_core
    from tipline.crossref import services as crossref
    from tipline.crossref.models import TextBand, TextPrint
    from tipline.harmonize import services as harmonize
    from tipline.harmonize.models import Harmonization

    prepared: dict[str, bool] = {}
    test_depth = len(connection.atomic_blocks)  # this test's own transaction

    def outside_transaction() -> bool:
        return len(connection.atomic_blocks) == test_depth

    def outside(stage: str, prepare: Callable[[Sequence[int]], Any]) -> Any:
        def run(report_ids: Sequence[int]) -> Any:
            prepared[stage] = outside_transaction()
            return prepare(report_ids)

        return run

    monkeypatch.setitem(pipeline._prepares, "harmonize", outside("h", harmonize.reports_prepare))
    monkeypatch.setitem(pipeline._prepares, "analyze", outside("a", analyze.reports_scan))
    monkeypatch.setitem(
        pipeline._prepares, "crossref", outside("c", crossref.reports_crossref_prepare)
    )
    real_bands = crossref_core.text_bands

    def bands(text: str) -> Any:
        assert outside_transaction(), "text bands computed inside the stage's transaction"
        return real_bands(text)

    monkeypatch.setattr(crossref_core, "text_bands", bands)
    scanned_inside: list[Sequence[int]] = []
    real_scan = analyze.reports_scan
    monkeypatch.setattr(
        analyze, "reports_scan", lambda ids: scanned_inside.append(ids) or real_scan(ids)
    )
    real_detect = harmonize.detect_language

    def detect(text: str) -> tuple[str, float]:
        assert outside_transaction(), "language detected inside the stage's transaction"
        return real_detect(text)

    monkeypatch.setattr(harmonize, "detect_language", detect)
    draft = core.parse_report(
        {
            "urls": ["https://ads.example/lyon/1"],
            "excerpt": "Nouvelle en ville, appelle le 01 99 00 12 34, le patron a mon passeport",
        },
        max_media_bytes=1024,
    )
    [outcome] = services.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    rid = outcome.report_id
    run_tasks()
    assert state(rid) == ReportState.ORIENTED
    assert prepared == {"h": True, "a": True, "c": True}
    assert scanned_inside == []  # the step took the prepared scan
    [text_id] = TextPrint.objects.filter(item__report_links__report_id=rid).values_list(
        "id", flat=True
    )
    assert TextBand.objects.filter(text_id=text_id).count() == crossref_core.BANDS
    assert Harmonization.objects.get(report_id=rid).language == "fr"
    assert Observable.objects.filter(report_id=rid, type="phone").exists()
    assert IndicatorHit.objects.filter(report_id=rid).exists()


def test_a_prepare_phase_that_fails_is_retried_like_the_stage(
    monkeypatch, settings, run_tasks
) -> None:
    settings.PIPELINE_RETRY_BASE_S = 60
    calls: list[Sequence[int]] = []

    def failing(report_ids: Sequence[int]) -> Any:
        calls.append(report_ids)
        raise OSError("evidence store unreadable")

    monkeypatch.setitem(pipeline._prepares, "harmonize", failing)
    [rid] = receive()
    run_tasks()
    assert calls
    report = Report.objects.get(id=rid)
    assert report.state == ReportState.RECEIVED and report.attempts == 1
    assert "evidence store unreadable" in report.last_error
