"""Bringing the summaries up to date: only the days something changed on (and the days
whose SLA counts move with the clock) are recomputed, and the result is the same as
recomputing everything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline.harmonize.models import Item
from tipline.orient.models import Routing
from tipline.stats import selectors, services, tasks
from tipline.stats.models import DailyCount, Duration, Refresh

from .conftest import NOW, H, at, item, report

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    counts = sorted(DailyCount.objects.values_list("day", "theme", "figure", "key", "n"))
    durations = sorted(
        Duration.objects.values_list("metric", "day", "theme", "seconds", "provider")
    )
    return counts, durations


def test_an_assessment_moves_only_its_day_and_matches_a_full_recompute(refreshed: Any) -> None:
    i7 = Item.objects.get(key=f"{7:064d}")
    Item.objects.filter(id=i7.id).update(
        assessed_at=NOW + timedelta(hours=1), classification="baseline", needs_assessment=False
    )
    done = services.summaries_refresh(now=NOW + timedelta(hours=2))
    assert done is not None
    # 10 March (I7's day) and the 9 days whose SLA counts may move with the clock alone
    # (the longest deadline, 7 days, and one more: 25 December to 2 January).
    assert (done.full, done.days) == (False, 10)
    t = selectors.dashboard(year=2026).timings
    assert (t.assess.started, t.assess.done) == (6, 5)
    assert selectors.dashboard(year=2026).assessment.illegal == 3
    p3 = next(r for r in selectors.dashboard(year=2026).sla if r.priority == "P3")
    assert (p3.late, p3.waiting) == (2, 0)  # I7 is now late rather than waiting
    incremental = snapshot()
    services.summaries_refresh(full=True, now=NOW + timedelta(hours=2))
    assert snapshot() == incremental


def test_new_reports_and_items_are_picked_up(refreshed: Any) -> None:
    report(12, "2027-01-02 12:30", "partner", "hate")
    item(12, "text", "2027-01-02 12:30", "hate", priority="P2")
    services.summaries_refresh(now=NOW + timedelta(hours=1))
    d = selectors.dashboard(year=2027)
    assert (d.volumes.reports, d.volumes.items) == (2, 2)  # R11 and R12, I9 and I12
    assert d.volumes.reports_by_channel == {"public": 1, "partner": 1}


def test_a_waiting_item_crosses_its_deadline_without_any_change(refreshed: Any) -> None:
    item(13, "url", "2027-01-02 11:45", "csam", priority="P1", country="FR")
    services.summaries_refresh(now=NOW)
    p1 = next(r for r in selectors.dashboard(year=2027).sla if r.priority == "P1")
    assert (p1.items, p1.waiting) == (1, 0)  # 15 min old, deadline 1 h
    services.summaries_refresh(now=NOW + 2 * timedelta(hours=1))
    p1 = next(r for r in selectors.dashboard(year=2027).sla if r.priority == "P1")
    assert (p1.items, p1.waiting) == (1, 1)


def test_a_new_routing_changes_the_hosting_country(refreshed: Any) -> None:
    i5 = Item.objects.get(key=f"{5:064d}")
    Routing.objects.filter(item=i5).update(is_current=False)
    Routing.objects.create(
        item=i5,
        facts={},
        facts_key="new",
        reason="hosting found",
        priority="P4",
        hosting_country="BE",
        is_current=True,
        decided_at=NOW + timedelta(minutes=5),
    )
    services.summaries_refresh(now=NOW + timedelta(minutes=10))
    assert selectors.dashboard(year=2026).hosting.rows == [
        ("FR", 2, 1),
        ("BE", 1, 0),
        ("DE", 1, 0),
        ("NL", 1, 0),
        ("US", 1, 1),
    ]


def test_refreshing_again_changes_nothing(refreshed: Any) -> None:
    before = snapshot()
    services.summaries_refresh(now=NOW)
    services.summaries_refresh(now=NOW)
    assert snapshot() == before
    assert Refresh.objects.get().as_of == NOW


def test_the_first_refresh_and_a_new_time_zone_recompute_everything(
    data: Any, settings: Any
) -> None:
    first = services.summaries_refresh(now=NOW)
    assert first is not None
    # From the first report's day, 31 Dec 2025, to NOW's, 2 Jan 2027.
    assert (first.full, first.days) == (True, 368)
    again = services.summaries_refresh(now=NOW)
    assert again is not None
    assert (again.full, again.days) == (False, 9)
    settings.TIME_ZONE = "Europe/Paris"
    timezone.deactivate()
    rebuilt = services.summaries_refresh(now=NOW)
    assert rebuilt is not None and rebuilt.full
    # In Paris, R1 (23:30 UTC on 31 Dec) was received at 00:30 on 1 January 2026.
    assert selectors.dashboard(year=2026).volumes.reports == 10
    assert selectors.dashboard(year=2025).volumes.reports == 0


def test_one_refresh_at_a_time(refreshed: Any) -> None:
    Refresh.objects.update(running_since=timezone.now())
    assert services.summaries_refresh(now=NOW) is None
    # One not heard of for an hour has died: the next one takes over.
    Refresh.objects.update(running_since=timezone.now() - timedelta(hours=2))
    assert services.summaries_refresh(now=NOW) is not None
    assert Refresh.objects.get().running_since is None


def test_only_what_changed_is_written(refreshed: Any) -> None:
    ids = set(Duration.objects.values_list("pk", flat=True))
    count_ids = set(DailyCount.objects.values_list("pk", flat=True))
    services.summaries_refresh(full=True, now=NOW)
    assert set(Duration.objects.values_list("pk", flat=True)) == ids
    assert set(DailyCount.objects.values_list("pk", flat=True)) == count_ids
    i5 = Item.objects.get(key=f"{5:064d}")
    Item.objects.filter(id=i5.id).update(assessed_at=i5.first_reported_at + timedelta(hours=2))
    services.summaries_refresh(full=True, now=NOW)
    after = set(Duration.objects.values_list("pk", flat=True))
    assert len(ids - after) == len(after - ids) == 1  # I5's 30 min became 2 h
    assert Duration.objects.get(pk__in=after - ids).seconds == 2 * H


def test_workers_queue_a_refresh_when_the_figures_are_old(data: Any) -> None:
    assert tasks.housekeeping() is True  # never computed
    assert tasks.housekeeping() is False  # one is queued already
    assert DBTaskResult.objects.filter(task_path__endswith="summaries_refresh").count() == 1
    services.summaries_refresh()
    assert tasks.housekeeping() is False  # fresh
    Refresh.objects.update(
        as_of=at("2026-01-01 00:00"), queued_at=at("2026-01-01 00:00") - timedelta(hours=H)
    )
    assert tasks.housekeeping() is True


def test_the_refresh_command(data: Any, capsys: Any) -> None:
    call_command("stats", "refresh", "--full")
    out = capsys.readouterr().out
    assert '"full": true' in out
    assert DailyCount.objects.filter(figure="reports").exists()
