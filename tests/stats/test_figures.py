"""Every figure of the dashboard against the numbers worked out by hand from the fixed
data set in conftest.py (its docstring lists the rows)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tipline.stats import selectors
from tipline.stats.core import Period

from .conftest import NOW, D, H

pytestmark = pytest.mark.django_db


def year(y: int, theme: str | None = None, unit: str = "month") -> selectors.Dashboard:
    return selectors.dashboard(year=y, theme=theme, unit=unit)


def test_volumes_of_2026_by_month_channel_theme_and_kind(refreshed: Any) -> None:
    d = year(2026)
    v = d.volumes
    # R2…R10 were received in 2026; R1 on 31 Dec 2025, R11 on 1 Jan 2027.
    assert v.reports == 9
    # I2…I8 were first reported in 2026 (I1 in 2025, though R2 pointed at it in 2026).
    assert v.items == 7
    months = [(b.label, reports, items) for b, reports, items in v.series]
    assert months == [
        ("2026-01", 6, 4),  # R2 R3 R4 R5 R6 R7; I2 I3 I4 I5
        ("2026-02", 0, 0),  # empty
        ("2026-03", 2, 2),  # R8 R9; I6 I7
        *[(f"2026-{m:02d}", 0, 0) for m in range(4, 12)],
        ("2026-12", 1, 1),  # R10; I8
    ]
    assert v.reports_by_channel == {"public": 4, "provider": 4, "partner": 1}
    assert v.reports_by_theme == {"csam": 4, "trafficking": 3, "fraud": 1, "": 1}
    assert v.items_by_theme == {"csam": 3, "trafficking": 3, "fraud": 1}
    assert v.items_by_kind == {"url": 6, "media": 1}
    assert (d.previous_reports, d.previous_items) == (1, 1)  # 2025: R1, I1
    assert d.previous_illegal_share == 1.0  # I1 baseline


def test_iso_weeks_across_the_new_year(refreshed: Any) -> None:
    weeks = {
        b.label: (b.start, reports, items)
        for b, reports, items in year(2026, unit="week").volumes.series
    }
    assert len(weeks) == 53
    # 2026-W01 runs from Monday 2025-12-29; within 2026 it holds 1 to 4 January: R2 R3 R4.
    assert weeks["2026-W01"] == (date(2026, 1, 1), 3, 2)
    assert weeks["2026-W02"] == (date(2026, 1, 5), 1, 1)  # R5, I4
    assert weeks["2026-W53"] == (date(2026, 12, 28), 1, 1)  # R10, I8
    before = {
        b.label: (reports, items) for b, reports, items in year(2025, unit="week").volumes.series
    }
    assert before["2026-W01"] == (1, 1)  # 29 to 31 Dec 2025: R1, I1
    across = selectors.dashboard(start=date(2025, 12, 29), end=date(2026, 1, 5), unit="week")
    assert [(b.label, r, i) for b, r, i in across.volumes.series] == [("2026-W01", 4, 3)]
    days = selectors.dashboard(start=date(2025, 12, 31), end=date(2026, 1, 2), unit="day")
    assert [(b.label, r, i) for b, r, i in days.volumes.series] == [
        ("2025-12-31", 1, 1),
        ("2026-01-01", 2, 1),  # R2 (to I1, already counted in 2025) and R3 → I2
    ]


def test_assessments_and_known_content(refreshed: Any) -> None:
    a = year(2026).assessment
    assert a.items == 7
    assert a.by_classification == {"national": 1, "not_illegal": 1, "doubtful": 1, "baseline": 1}
    assert a.assessed == 4
    assert a.illegal == 2  # I2 national, I6 baseline
    assert a.illegal_share == 0.5
    assert (a.known_matched, a.known_auto) == (1, 1)  # I4
    assert a.known_auto_share == pytest.approx(1 / 7)
    assert year(2025).assessment.by_classification == {"baseline": 1}


def test_hosting_countries_ranked_unknown_last(refreshed: Any) -> None:
    h = year(2026).hosting
    # Pages only (I4 is a file); the current routing's country, not the replaced one (ZZ).
    assert h.rows == [("FR", 2, 1), ("DE", 1, 0), ("NL", 1, 0), ("US", 1, 1), ("", 1, 0)]
    assert (h.pages, h.located) == (6, 5)


def test_networks_standing_and_by_theme(refreshed: Any) -> None:
    assert year(2026).networks == selectors.Networks(networks=2, items=4)  # the merged one left out
    # Trafficking: N1 (I2, I3) and N2 (I7); their trafficking items: 3.
    assert year(2026, "trafficking").networks == selectors.Networks(networks=2, items=3)
    assert year(2026, "csam").networks == selectors.Networks(networks=1, items=1)
    assert year(2025).networks == selectors.Networks(networks=0, items=0)


def test_dispatches_by_destination_and_outcome_and_notices(refreshed: Any) -> None:
    d = year(2026).dispatches
    assert d.by_outcome == {
        ("office", "sent"): 2,  # I2's, and I1's created on 1 Jan 2026 (its item is 2025's)
        ("office", "proposed"): 1,
        ("office", "pending"): 1,
        ("office", "cancelled"): 1,
        ("partner", "acknowledged"): 1,
        ("host", "sent"): 2,
    }  # the alert is not a dispatch
    assert (d.notices_first, d.notices_repeat) == (1, 1)
    assert d.to("office", "partner") == 6
    assert d.sent_to("office", "partner") == 3


def test_times_to_assess_forward_and_removal(refreshed: Any) -> None:
    t = year(2026).timings
    # Assess: started I2 I3 I5 I6 (assessed) and I7 I8 (waiting); not I4, known content.
    # Stopped after 24 h, 4 d, 30 min, 10 d: sorted 30 min, 24 h, 4 d, 10 d.
    assert (t.assess.started, t.assess.done) == (6, 4)
    assert t.assess.median_s == 24 * H  # rank ceil(0.5 x 4) = 2
    assert t.assess.p90_s == 10 * D  # rank ceil(0.9 x 4) = 4
    assert t.assess.within == {"24h": 2, "3d": 2, "7d": 3}  # 24 h exactly is within 24 h
    # Forward: I2 (sent 26 h after), I6 (10 d 30 min, the partner's), I8 (pending);
    # not I3, whose only dispatch was cancelled.
    assert (t.forward.started, t.forward.done) == (3, 2)
    assert (t.forward.median_s, t.forward.p90_s) == (26 * H, 10 * D + 1800)
    assert t.forward.within == {"24h": 0, "3d": 1, "7d": 1}
    # Removal: I2 noticed then gone 2 d later, I6 8 d, I8 opened without our notice on
    # 31 Dec and gone 24 h later; I7 still online.
    assert (t.removal.started, t.removal.done) == (4, 3)
    assert (t.removal.median_s, t.removal.p90_s) == (2 * D, 8 * D)
    assert t.removal.within == {"24h": 1, "3d": 2, "7d": 2}
    assert t.removal.share_within("3d") == 0.5
    before = year(2025).timings
    assert (before.assess.done, before.assess.median_s) == (1, 2 * H)  # I1
    assert (before.forward.done, before.forward.median_s) == (1, 3 * H)  # I1: 23:30 → 02:30
    assert before.removal.started == 0


def test_sla_breaches_by_priority(refreshed: Any) -> None:
    rows = {r.priority: (r.limit_s, r.items, r.late, r.waiting) for r in year(2026).sla}
    assert rows == {
        "P1": (H, 1, 0, 1),  # I8 waiting since 30 Dec, past 1 h at NOW
        "P2": (D, 2, 1, 0),  # I2 exactly on time, I6 after 10 d
        "P3": (3 * D, 2, 1, 1),  # I3 after 4 d, I7 still waiting
        "P4": (7 * D, 1, 0, 0),  # I5 in 30 min
    }
    assert sum(r.breached for r in year(2026).sla) == 4
    # I9, first reported 35 h before NOW without a routing yet, counts as P4: not late.
    assert {r.priority: r.items for r in year(2027).sla}["P4"] == 1
    assert sum(r.breached for r in year(2027).sla) == 0


def test_providers_slowest_first(refreshed: Any) -> None:
    rows = [(r.provider, r.removed, r.online, r.median_s) for r in year(2026).providers]
    assert rows == [
        ("AS64501", 1, 0, 8 * D),  # pics.example: no organisation, its AS number
        ("Example Hosting SA", 1, 1, 2 * D),  # the newest lookup's name; I7 still online
        ("files.example", 1, 0, 1 * D),  # no lookup: the host itself
    ]
    assert [(r.p90_s, r.slowest_s) for r in year(2026).providers] == [
        (8 * D, 8 * D),
        (2 * D, 2 * D),
        (1 * D, 1 * D),
    ]


def test_providers_read_at_once_when_there_are_many(refreshed: Any, monkeypatch: Any) -> None:
    walked = year(2026).providers
    monkeypatch.setattr(selectors, "WALK_PROVIDERS", 0)
    assert year(2026).providers == walked


@pytest.mark.parametrize("read_all_below", [0, 50_000])
def test_quantiles_read_from_either_end_of_the_index(
    refreshed: Any, monkeypatch: Any, read_all_below: int
) -> None:
    monkeypatch.setattr(selectors, "READ_ALL_BELOW", read_all_below)
    t = year(2026).timings
    assert (t.assess.median_s, t.assess.p90_s) == (24 * H, 10 * D)
    assert (t.removal.median_s, t.removal.p90_s) == (2 * D, 8 * D)


def test_a_refresh_caught_halfway_does_not_break_the_dashboard(
    refreshed: Any, monkeypatch: Any
) -> None:
    from tipline.stats.models import Duration

    # The day's counts are written, its durations not yet (or the other way round).
    Duration.objects.filter(metric="assess", seconds=1800).delete()
    monkeypatch.setattr(selectors, "READ_ALL_BELOW", 0)
    t = year(2026).timings
    assert t.assess.done == 4  # the counts say 4; 3 durations are there: 24 h, 4 d, 10 d
    assert (t.assess.median_s, t.assess.p90_s) == (4 * D, 10 * D)
    Duration.objects.all().delete()
    d = year(2026)
    assert d.timings.assess.median_s is None
    assert [r.median_s for r in d.providers] == [None, None, None]


def test_a_theme_filters_every_figure(refreshed: Any) -> None:
    d = year(2026, "trafficking")
    assert (d.volumes.reports, d.volumes.items) == (3, 3)  # R3 R4 R9; I2 I3 I7
    assert d.volumes.reports_by_channel == {"public": 2, "provider": 1}
    assert d.assessment.by_classification == {"national": 1, "not_illegal": 1}
    assert d.hosting.rows == [("FR", 2, 1), ("DE", 1, 0)]
    assert d.dispatches.by_outcome == {
        ("office", "sent"): 1,
        ("host", "sent"): 2,
        ("office", "cancelled"): 1,
    }
    assert (d.timings.assess.started, d.timings.assess.done) == (3, 2)
    assert (d.timings.assess.median_s, d.timings.assess.p90_s) == (24 * H, 4 * D)
    assert (d.timings.removal.started, d.timings.removal.done) == (2, 1)  # I2, I7
    assert [r.provider for r in d.providers] == ["Example Hosting SA"]
    fraud = year(2026, "fraud")
    assert (fraud.volumes.reports, fraud.volumes.items, fraud.timings.forward.started) == (1, 1, 0)


def test_an_empty_period_is_all_zeros(refreshed: Any) -> None:
    d = selectors.dashboard(start=date(2026, 2, 1), end=date(2026, 3, 1))
    assert d.filters.unit == "day"
    assert len(d.volumes.series) == 28
    assert all(r == i == 0 for _, r, i in d.volumes.series)
    assert (d.volumes.reports, d.volumes.items, d.assessment.assessed) == (0, 0, 0)
    assert d.assessment.illegal_share is None
    assert d.hosting.rows == []
    assert d.dispatches.by_outcome == {}
    for _name, dist in d.timings.each():
        assert (dist.started, dist.done, dist.median_s, dist.p90_s) == (0, 0, None, None)
        assert dist.share_within("24h") is None
    assert all(r.items == r.breached == 0 for r in d.sla)
    assert d.providers == []
    # The 28 days before, 4 to 31 January: R5 R6 R7; I4 I5.
    assert (d.previous_reports, d.previous_items) == (3, 2)


def test_the_summary_for_the_commentary(refreshed: Any) -> None:
    s = selectors.summary(year(2026))
    assert (s.reports, s.reports_before, s.items, s.items_before) == (9, 1, 7, 1)
    assert (s.top_country, s.top_country_items, s.hosted_items) == ("FR", 2, 5)
    assert (s.forwarded, s.notices_sent, s.noticed, s.removed) == (2, 2, 4, 3)
    assert (s.sla_started, s.sla_breached) == (6, 4)


def test_the_dashboard_costs_a_flat_number_of_queries(refreshed: Any) -> None:
    with CaptureQueriesContext(connection) as year_queries:
        year(2026)
    with CaptureQueriesContext(connection) as week_queries:
        selectors.dashboard(start=date(2026, 1, 1), end=date(2026, 1, 8), theme="csam")
    # However many rows: a handful of sums, two quantile reads per clock at most, three
    # reads per hosting provider listed (here 3; 1 in the week).
    assert len(year_queries) <= 14 + 3 * 3
    assert len(week_queries) <= 14 + 3 * 1


def test_figures_as_of_the_refresh(refreshed: Any) -> None:
    assert year(2026).as_of == NOW
    assert Period.year(2026).label() == "2026"
