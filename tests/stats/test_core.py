"""Statistics' pure logic: quantiles and shares, periods and their buckets across a year
boundary, numbers in English and French, tables as CSV, and commentary made of numbers."""

from __future__ import annotations

import csv
import io
import itertools
import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipline.stats import core

H, D = 3600, 86400

durations = st.lists(st.integers(min_value=0, max_value=60 * D), max_size=200)


def test_nearest_rank_quantiles_by_hand() -> None:
    values = [1800, 86400, 345600, 864000]
    assert core.quantile(values, 0.5) == 86400  # rank ceil(2) = 2
    assert core.quantile(values, 0.9) == 864000  # rank ceil(3.6) = 4
    ten = list(range(1, 11))
    assert core.quantile(ten, 0.9) == 9  # 0.9 x 10 is exactly 9, not 9.000000000000002
    assert core.quantile(ten, 0.5) == 5
    assert core.quantile([7], 0.5) == core.quantile([7], 0.9) == 7
    with pytest.raises(ValueError):
        core.rank(0, 0.5)


@given(durations, st.integers(min_value=0, max_value=50))
def test_distribution_matches_its_definition(values: list[int], running: int) -> None:
    dist = core.distribution(values, running=running)
    assert dist.started == len(values) + running
    assert dist.done == len(values)
    assert dist.running == running
    if not values:
        assert dist.median_s is None and dist.p90_s is None
        assert all(dist.share_within(name) in (None, 0) for name, _ in core.LIMITS)
        return
    ordered = sorted(values)
    for p, got in ((0.5, dist.median_s), (0.9, dist.p90_s)):
        # The smallest value with at least p of all values at or below it.
        expected = next(v for v in ordered if sum(1 for w in ordered if w <= v) >= p * len(values))
        assert got == expected
    assert dist.median_s is not None and dist.p90_s is not None
    assert dist.median_s <= dist.p90_s
    shares = [dist.share_within(name) for name, _ in core.LIMITS]
    assert shares == sorted(shares)  # 24 h ⊂ 3 d ⊂ 7 d
    for name, limit in core.LIMITS:
        assert dist.within[name] == sum(1 for v in values if v <= limit)


def test_a_limit_is_inclusive_and_running_clocks_count_as_not_within() -> None:
    dist = core.distribution([D, D + 1], running=2)
    assert dist.within == {"24h": 1, "3d": 2, "7d": 2}
    assert dist.share_within("24h") == 0.25
    assert dist.share_within("3d") == 0.5


def test_iso_weeks_across_the_year_boundary() -> None:
    # 2025-12-29 is a Monday and starts ISO week 2026-W01; 2026 has 53 ISO weeks.
    assert core.bucket_label(date(2025, 12, 29), "week") == "2026-W01"
    assert core.bucket_start(date(2026, 1, 1), "week") == date(2025, 12, 29)
    year = core.buckets(core.Period.year(2026), "week")
    assert len(year) == 53
    assert (year[0].label, year[0].start, year[0].end) == (
        "2026-W01",
        date(2026, 1, 1),
        date(2026, 1, 5),
    )
    assert (year[-1].label, year[-1].start, year[-1].end) == (
        "2026-W53",
        date(2026, 12, 28),
        date(2027, 1, 1),
    )
    before = core.buckets(core.Period.year(2025), "week")
    assert (before[-1].label, before[-1].start, before[-1].end) == (
        "2026-W01",
        date(2025, 12, 29),
        date(2026, 1, 1),
    )
    straddling = core.buckets(core.Period(date(2025, 12, 29), date(2026, 1, 5)), "week")
    assert [(b.label, b.start, b.end) for b in straddling] == [
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 5))
    ]


def test_months_and_days_include_empty_ones_and_are_cut_by_the_period() -> None:
    period = core.Period(date(2026, 1, 15), date(2026, 4, 10))
    months = core.buckets(period, "month")
    assert [(b.label, b.start, b.end) for b in months] == [
        ("2026-01", date(2026, 1, 15), date(2026, 2, 1)),
        ("2026-02", date(2026, 2, 1), date(2026, 3, 1)),
        ("2026-03", date(2026, 3, 1), date(2026, 4, 1)),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 10)),
    ]
    counts = {date(2026, 1, 20): 3, date(2026, 3, 31): 1, date(2026, 4, 1): 2, date(2026, 5, 1): 9}
    assert [n for _, n in core.series(counts, period, "month")] == [3, 0, 1, 2]
    days = core.buckets(core.Period(date(2025, 12, 30), date(2026, 1, 2)), "day")
    assert [b.label for b in days] == ["2025-12-30", "2025-12-31", "2026-01-01"]


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    st.integers(min_value=1, max_value=800),
    st.sampled_from(core.UNITS),
)
def test_buckets_tile_the_period(start: date, days: int, unit: str) -> None:
    from datetime import timedelta

    period = core.Period(start, start + timedelta(days=days))
    bs = core.buckets(period, unit)
    assert bs[0].start == period.start and bs[-1].end == period.end
    assert all(a.end == b.start for a, b in itertools.pairwise(bs))
    assert len({b.label for b in bs}) == len(bs)


def test_periods() -> None:
    assert core.Period.year(2026).previous() == core.Period.year(2025)
    assert core.Period.year(2026).label() == "2026"
    week = core.Period(date(2026, 1, 5), date(2026, 1, 12))
    assert week.previous() == core.Period(date(2025, 12, 29), date(2026, 1, 5))
    assert week.label() == "2026-01-05/2026-01-11"
    assert core.Period.month(2026, 12) == core.Period(date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(ValueError):
        core.Period(date(2026, 1, 2), date(2026, 1, 2))
    assert core.auto_unit(week) == "day"
    assert core.auto_unit(core.Period(date(2026, 1, 1), date(2026, 4, 1))) == "week"
    assert core.auto_unit(core.Period.year(2026)) == "month"


def test_numbers_in_english_and_french() -> None:
    assert core.fmt_int(2340) == "2,340"
    assert core.fmt_int(2340, "fr") == "2\u202f340"
    assert core.fmt_percent(0.12) == "12%"
    assert core.fmt_percent(0.125, "fr", digits=1) == "12,5\u202f%"
    assert core.fmt_percent(None) == "—"
    assert core.fmt_duration(None) == "—"
    assert core.fmt_duration(40) == "40 s"
    assert core.fmt_duration(12 * 60 + 59) == "12 min"
    assert core.fmt_duration(5 * H) == "5 h"
    assert core.fmt_duration(5 * H + 20 * 60) == "5 h 20 min"
    assert core.fmt_duration(2 * D) == "2 d"
    assert core.fmt_duration(3 * D + 4 * H + 59 * 60) == "3 d 4 h"

    class French(core.Untranslated):
        def gettext(self, message: str) -> str:
            return message.replace(" d", " j")

    assert core.fmt_duration(3 * D + 4 * H, French()) == "3 j 4 h"


def test_a_table_as_csv() -> None:
    table = core.Table(
        key="t",
        title="T",
        columns=("Clock", "Started", "Median", "Within 24 hours"),
        kinds=("label", "count", "duration", "percent"),
        rows=(("assess", 6, 86400.0, 2 / 6), ("forward", 0, None, None)),
    )
    rows = list(csv.reader(io.StringIO(core.csv_text(table))))
    assert rows == [
        ["Clock", "Started", "Median (s)", "Within 24 hours"],
        ["assess", "6", "86400", "0.3333"],
        ["forward", "0", "", ""],
    ]
    assert table.row_label(table.rows[0]) == "assess"
    with pytest.raises(ValueError):
        core.Table(key="bad", title="", columns=("a",), kinds=("label", "count"), rows=())
    assert core.Table(
        key="e", title="", columns=("a", "n"), kinds=("label", "count"), rows=(("x", 0),)
    ).is_empty


def summary(**changes: object) -> core.Summary:
    base = dict(
        period_label="2026",
        previous_label="2025",
        reports=2340,
        reports_before=2089,
        items=1000,
        items_before=1000,
        assessed=400,
        illegal=100,
        illegal_share_before=0.2,
        known_auto=50,
        top_country="NL",
        top_country_items=300,
        hosted_items=600,
        networks=12,
        network_items=80,
        forwarded=90,
        notices_sent=70,
        noticed=60,
        removed=45,
        assess=core.distribution([H, 2 * H, 30 * H], running=1),
        forward=core.distribution([]),
        removal=core.distribution([D, 5 * D]),
        sla_started=401,
        sla_breached=40,
    )
    base.update(changes)
    return core.Summary(**base)  # type: ignore[arg-type]


def test_commentary_is_made_of_the_numbers() -> None:
    text = core.commentary(summary())
    # 2340 / 2089 = 1.1201…: 12 % more.
    assert text[0] == "2,340 reports received in 2026, 12% more than in 2025."
    assert text[1] == "They pointed at 1,000 new items (pages, files or texts), as many as in 2025."
    assert text[2] == (
        "400 items were assessed by an analyst; 100 illegal (25%), against 20% in 2025."
    )
    assert "50 items (5%) were known content, handled without an analyst." in text
    assert (
        "Of 600 reported pages with a known hosting country, 300 (50%) were hosted in NL, "
        "more than in any other country." in text
    )
    # Median of 1 h, 2 h, 30 h is 2 h; p90 is 30 h = 1 d 6 h; within 24 h: 2 of 4 started.
    assert (
        "Time to assess: median 2 h, 90% within 1 d 6 h; 50% within 24 hours, 75% within "
        "3 days (of 4)." in text
    )
    assert not any(t.startswith("Time to forward") for t in text)  # nothing forwarded
    assert (
        "45 of 60 pages noticed to their hosts were removed (75%); 70 notices sent in all." in text
    )
    assert (
        "40 of 401 items (10%) were assessed after their priority's deadline or are still "
        "waiting past it." in text
    )


def test_commentary_of_an_empty_period_and_of_fewer() -> None:
    empty = summary(
        reports=0,
        reports_before=0,
        items=0,
        items_before=5,
        assessed=0,
        illegal=0,
        known_auto=0,
        top_country="",
        networks=0,
        forwarded=0,
        noticed=0,
        sla_started=0,
        assess=core.distribution([]),
        removal=core.distribution([]),
    )
    text = core.commentary(empty)
    assert text[0] == "0 reports received in 2026."
    assert (
        text[1] == "They pointed at 0 new items (pages, files or texts), 100% fewer than in 2025."
    )
    assert text[2] == "No item was assessed by an analyst."
    assert len(text) == 3
    one = core.commentary(summary(reports=1, reports_before=0))
    assert one[0] == "1 report received in 2026."


def test_commentary_in_french_numbers() -> None:
    text = core.commentary(summary(), lang="fr")
    assert text[0].startswith("2\u202f340 ") and "12\u202f%" in text[0]


def test_change_and_share() -> None:
    assert core.change(112, 100) == pytest.approx(0.12)
    assert core.change(5, 0) is None
    assert core.share(1, 0) is None
    assert math.isclose(core.share(1, 3) or 0, 1 / 3)
