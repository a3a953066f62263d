"""Retention with a fixed clock: reporters' contact details are erased two years after
their report's items are closed (not a day earlier), evidence files go after their theme's
retention unless something still uses them, a dry run changes nothing, what was done is in
the audit log, and a second run finds nothing left to do."""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from tipline.analyze.models import Capture
from tipline.common.evidence import default_store
from tipline.common.models import AuditRecord
from tipline.harmonize.models import Item, MediaFile, ReportItem
from tipline.intake import core, services
from tipline.intake.choices import Channel
from tipline.intake.models import Report, ReportMedia
from tipline.ops import retention
from tipline.ops.checks import retention_themes
from tipline.ops.models import DailyRun
from tipline.ops.services import daily_run_claim
from tipline.ops.worker import PipelineWorker
from tipline.orient.models import Dispatch, Routing, Takedown

from ..conftest import drain

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 15, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TWO_YEARS = 730 * DAY
POLICY = retention.Policy(reporter_days=730, evidence_days={"default": 730, "fraud": 90})
EMAIL = "camille@mail.example"
_serial = itertools.count(1)


def reported(*, finished: datetime, state: str = "oriented", contact: bool = True) -> Report:
    reporter = {"name": "Camille Exemple", "email": EMAIL, "phone": "01 99 00 12 34"}
    n = next(_serial)
    draft = core.parse_report(
        {"urls": [f"https://ads.example/{n}"], "reporter": reporter if contact else {}},
        max_media_bytes=1024,
    )
    [received] = services.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    assert isinstance(received, services.Received)
    Report.objects.filter(pk=received.report_id).update(state=state, state_changed_at=finished)
    return Report.objects.get(pk=received.report_id)


def item(
    *,
    closed: datetime,
    theme: str = "trafficking",
    kind: str = "url",
    sha256: str = "",
    assessed: bool = True,
    close_as: str = "",
    hold: bool = False,
) -> Item:
    """An item whose last event (its assessment) was at `closed`."""
    n = next(_serial)
    it = Item.objects.create(
        kind=kind,
        key=f"{n:064d}",
        url=f"https://ads.example/{n}" if kind == "url" else "",
        sha256=sha256,
        theme=theme,
        classification="national" if assessed else "unassessed",
        needs_assessment=not assessed,
        assessed_at=closed if assessed else None,
        first_reported_at=closed - 30 * DAY,
        last_reported_at=closed - 20 * DAY,
    )
    Routing.objects.create(
        item=it,
        facts={},
        facts_key=f"k{n}",
        reason="test",
        close_as=close_as,
        hold=hold,
        decided_at=closed - 10 * DAY,
    )
    return it


def link(report: Report, *items: Item) -> None:
    for it in items:
        ReportItem.objects.create(report=report, item=it, effect="new_work")


def contact_of(report: Report) -> tuple[str, str, str]:
    r = Report.objects.get(pk=report.pk)
    return (r.reporter_name, r.reporter_email, r.reporter_phone)


@dataclass
class Reporters:
    old: Report
    recent: Report
    open: Report
    held: Report
    live: Report
    takedown: Report
    half_closed: Report
    in_pipeline: Report
    failed: Report
    closed_by_rule: Report


@pytest.fixture
def reporters() -> Reporters:
    old, recent = NOW - TWO_YEARS - DAY, NOW - TWO_YEARS + DAY
    r = Reporters(
        old=reported(finished=old - 30 * DAY),
        recent=reported(finished=old - 30 * DAY),
        open=reported(finished=old - 30 * DAY),
        held=reported(finished=old - 30 * DAY),
        live=reported(finished=old - 30 * DAY),
        takedown=reported(finished=old - 30 * DAY),
        half_closed=reported(finished=old - 30 * DAY),
        in_pipeline=reported(finished=old - 30 * DAY, state="harmonized"),
        failed=reported(finished=old, state="failed"),
        closed_by_rule=reported(finished=old - 30 * DAY),
    )
    link(r.old, item(closed=old))
    link(r.recent, item(closed=recent))
    link(r.open, item(closed=old, assessed=False))
    link(r.held, item(closed=old, hold=True))
    live = item(closed=old)
    link(r.live, live)
    Dispatch.objects.create(item=live, kind="notice", state="pending", created_at=old)
    down = item(closed=old)
    link(r.takedown, down)
    Takedown.objects.create(item=down, state="open", opened_at=old)
    link(r.half_closed, item(closed=old), item(closed=recent))
    link(r.closed_by_rule, item(closed=old, assessed=False, close_as="known"))
    return r


def test_reporter_data_goes_two_years_after_closure_and_not_a_day_before(
    reporters: Reporters,
) -> None:
    outcome = retention.retention_apply(now=NOW, policy=POLICY)
    gone = {reporters.old.pk, reporters.failed.pk, reporters.closed_by_rule.pk}
    assert set(outcome.plan.report_ids) == gone
    assert outcome.reports_anonymized == 3
    for report in Report.objects.all():
        if report.pk in gone:
            assert contact_of(report) == ("", "", "")
            assert report.receipt and report.urls  # the report itself stays
        else:
            assert contact_of(report) == ("Camille Exemple", EMAIL, "01 99 00 12 34")


def test_a_dispatch_sent_later_moves_the_closure_on(reporters: Reporters) -> None:
    [it] = reporters.old.report_items.values_list("item", flat=True)
    Dispatch.objects.create(
        item_id=it,
        kind="dispatch",
        state="acknowledged",
        created_at=NOW - TWO_YEARS - DAY,
        acknowledged_at=NOW - TWO_YEARS + 2 * DAY,
    )
    assert reporters.old.pk not in retention.plan(now=NOW, policy=POLICY).report_ids


@dataclass
class Files:
    alone: str  # an upload of a fraud item closed 91 days ago
    thumbnail: str  # its blurred thumbnail
    capture: str  # a capture of that item
    shared: str  # the same picture sent about a fraud item and a trafficking item
    recent_capture: str  # a capture of a fraud item closed 89 days ago
    waiting: str  # also held by a report not through the pipeline yet


@pytest.fixture
def files() -> Files:
    store = default_store()
    alone, thumb, capture, shared, recent, waiting = (
        store.put(f"synthetic evidence {name}".encode())
        for name in ("alone", "thumb", "capture", "shared", "recent", "waiting")
    )
    old, recent_close = NOW - 91 * DAY, NOW - 89 * DAY

    def upload(report: Report, sha: str) -> None:
        ReportMedia.objects.create(
            report=report,
            filename="p.png",
            content_type="image/png",
            size=10,
            sha256=sha,
            width=1,
            height=1,
        )

    fraud_page = item(closed=old, theme="fraud")
    fraud_media = item(closed=old, theme="fraud", kind="media", sha256=alone)
    sender = reported(finished=old - 30 * DAY, contact=False)
    link(sender, fraud_page, fraud_media)
    upload(sender, alone)
    MediaFile.objects.create(sha256=alone, md5="0" * 32, sha1="0" * 40, thumbnail_sha256=thumb)
    Capture.objects.create(
        item=fraud_page, requested_url="https://ads.example/", body_sha256=capture, fetched_at=old
    )

    fraud_again = item(closed=old, theme="fraud")
    trafficking = item(closed=old, theme="trafficking")  # default retention: 730 days
    for it in (fraud_again, trafficking):
        sender = reported(finished=old - 30 * DAY, contact=False)
        link(sender, it)
        upload(sender, shared)

    fraud_recent = item(closed=recent_close, theme="fraud")
    Capture.objects.create(
        item=fraud_recent,
        requested_url="https://ads.example/",
        body_sha256=recent,
        fetched_at=recent_close,
    )

    sender = reported(finished=old - 30 * DAY, contact=False)
    link(sender, item(closed=old, theme="fraud"))
    upload(sender, waiting)
    upload(reported(finished=NOW, state="received", contact=False), waiting)
    return Files(alone, thumb, capture, shared, recent, waiting)


def test_evidence_goes_after_its_themes_retention_unless_still_used(files: Files) -> None:
    store = default_store()
    outcome = retention.retention_apply(now=NOW, policy=POLICY)
    gone = {files.alone, files.thumbnail, files.capture}
    assert set(outcome.plan.file_shas) == gone
    assert outcome.files_deleted == 3
    for sha in (files.alone, files.thumbnail, files.capture):
        assert not store.exists(sha)
    for sha in (files.shared, files.recent_capture, files.waiting):
        assert store.exists(sha)
    # The records stay: what was received and fingerprinted is still known by its hash.
    assert ReportMedia.objects.filter(sha256=files.alone).exists()
    assert MediaFile.objects.filter(sha256=files.alone).exists()


def test_a_theme_kept_forever_keeps_its_files(files: Files) -> None:
    policy = retention.Policy(reporter_days=730, evidence_days={"default": 730, "fraud": None})
    assert retention.plan(now=NOW, policy=policy).files == []


def test_a_dry_run_changes_nothing(reporters: Reporters, files: Files) -> None:
    before = list(Report.objects.order_by("pk").values_list("reporter_email", flat=True))
    todo = retention.plan(now=NOW, policy=POLICY)
    assert len(todo.reports) == 3 and len(todo.files) == 3
    assert all("closed" in g.reason for g in [*todo.reports, *todo.files])
    assert list(Report.objects.order_by("pk").values_list("reporter_email", flat=True)) == before
    assert all(default_store().exists(sha) for sha in todo.file_shas)
    assert not AuditRecord.objects.filter(action="retention.applied").exists()


def test_the_audit_log_says_what_was_done_and_a_second_run_does_nothing(
    reporters: Reporters, files: Files
) -> None:
    first = retention.retention_apply(now=NOW, policy=POLICY)
    [record] = AuditRecord.objects.filter(action="retention.applied")
    assert record.actor == "retention"
    assert record.detail["reports_anonymized"] == 3
    assert record.detail["files_deleted"] == 3
    assert sorted(record.detail["report_ids"]) == sorted(first.plan.report_ids)
    assert sorted(record.detail["files"]) == sorted(first.plan.file_shas)
    assert record.detail["evidence_days"] == {"default": 730, "fraud": 90}
    assert EMAIL not in json.dumps(record.detail)

    again = retention.retention_apply(now=NOW, policy=POLICY)
    assert (again.reports_anonymized, again.files_deleted) == (0, 0)
    assert again.plan.reports == [] and again.plan.files == []
    assert AuditRecord.objects.filter(action="retention.applied").count() == 1


def test_the_command_shows_ids_and_reasons_but_no_personal_data(
    settings: Any, reporters: Reporters
) -> None:
    # The command runs on the real clock: move the policy so the same reports are due.
    days = (datetime.now(UTC) - NOW).days + 730
    settings.RETENTION_REPORTER_DAYS = days
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "reporter data would be erased from 3 report(s)" in text
    assert f"report:{reporters.old.pk}: closed " in text
    assert EMAIL not in text and "Camille" not in text and "01 99" not in text
    assert contact_of(reporters.old) != ("", "", "")

    out = io.StringIO()
    call_command("retention", "--json", stdout=out)
    done = json.loads(out.getvalue())
    assert done["dry_run"] is False and done["reports"] == 3
    assert contact_of(reporters.old) == ("", "", "")


def test_workers_queue_retention_once_a_day() -> None:
    a, b = PipelineWorker(worker_id="worker-a"), PipelineWorker(worker_id="worker-b")
    assert a.retention_daily() is True
    assert b.retention_daily() is False  # same day: already claimed
    queued = DBTaskResult.objects.filter(task_path="tipline.ops.tasks.retention_run")
    assert queued.count() == 1
    run = DailyRun.objects.get(name="retention")
    assert (run.worker_id, run.finished_at) == ("worker-a", None)

    drain()
    run.refresh_from_db()
    assert run.finished_at is not None
    assert run.outcome == {"reports_anonymized": 0, "files_deleted": 0}
    # The next day, one worker claims it again.
    tomorrow = run.day + DAY
    assert daily_run_claim(name="retention", day=tomorrow, worker_id="worker-b") is True
    assert daily_run_claim(name="retention", day=tomorrow, worker_id="worker-a") is False


def test_a_misspelt_theme_is_a_configuration_error(settings: Any) -> None:
    settings.RETENTION_EVIDENCE_DAYS = {"default": 730, "terrorisme": 30}
    [error] = retention_themes()
    assert error.id == "tipline.E001" and "terrorisme" in error.msg
    settings.RETENTION_EVIDENCE_DAYS = {"default": 730, "terrorism": 30}
    assert retention_themes() == []
