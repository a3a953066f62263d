"""Statistics' pure logic: periods and their buckets (days, ISO weeks, months), the
figures of a distribution of durations (median, p90, shares within 24 h / 3 days /
7 days), numbers written the English or French way, the tables behind every chart, and
the commentary sentences built from numbers alone. No Django here: texts go through the
`Translator` the caller passes (Django's gettext in the app, the identity in tests)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

DAY_S = 86_400
# The limits every distribution of durations is measured against, in seconds.
LIMITS: tuple[tuple[str, int], ...] = (("24h", DAY_S), ("3d", 3 * DAY_S), ("7d", 7 * DAY_S))
UNITS = ("day", "week", "month")


class Translator(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class Untranslated:
    """English as written in the code."""

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


ENGLISH = Untranslated()


# --- Periods and buckets -------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """Days from `start` (included) to `end` (excluded), in the hotline's time zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a period ends after it starts: {self.start} → {self.end}")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), add_months(date(year, month, 1), 1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def is_year(self) -> bool:
        return self.start.month == self.start.day == 1 and self.end == date(
            self.start.year + 1, 1, 1
        )

    def previous(self) -> Period:
        """The period just before, of the same length (the year before for a year)."""
        if self.is_year:
            return Period.year(self.start.year - 1)
        return Period(self.start - timedelta(days=self.days), self.start)

    def label(self) -> str:
        if self.is_year:
            return str(self.start.year)
        last = self.end - timedelta(days=1)
        return self.start.isoformat() if last == self.start else f"{self.start}/{last}"


def add_months(d: date, months: int) -> date:
    """The first of the month `months` after d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def bucket_start(d: date, unit: str) -> date:
    """The first day of the day, ISO week (Monday) or month holding `d`."""
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=d.weekday())
    if unit == "month":
        return d.replace(day=1)
    raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")


def bucket_label(start: date, unit: str) -> str:
    """2026-01-31, 2026-W05 (the ISO week: 2025-12-29 starts 2026-W01) or 2026-01."""
    if unit == "day":
        return start.isoformat()
    if unit == "week":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if unit == "month":
        return f"{start.year}-{start.month:02d}"
    raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")


@dataclass(frozen=True)
class Bucket:
    """One bar of a time series: its label, and the days of the period it covers (a week or
    month cut by the period's ends covers only the days inside it)."""

    label: str
    start: date
    end: date


def buckets(period: Period, unit: str) -> list[Bucket]:
    """Every bucket of the period, empty ones included, in order."""
    out: list[Bucket] = []
    d = period.start
    while d < period.end:
        first = bucket_start(d, unit)
        if unit == "day":
            nxt = first + timedelta(days=1)
        elif unit == "week":
            nxt = first + timedelta(days=7)
        else:
            nxt = add_months(first, 1)
        end = min(nxt, period.end)
        out.append(Bucket(bucket_label(first, unit), d, end))
        d = end
    return out


def series(counts: Mapping[date, int], period: Period, unit: str) -> list[tuple[Bucket, int]]:
    """Day counts summed per bucket; days outside the period are ignored."""
    out = []
    for b in buckets(period, unit):
        total = sum(n for d, n in counts.items() if b.start <= d < b.end)
        out.append((b, total))
    return out


def auto_unit(period: Period) -> str:
    """Days up to a month and a half, weeks up to half a year, then months."""
    if period.days <= 45:
        return "day"
    if period.days <= 190:
        return "week"
    return "month"


# --- Distributions of durations ------------------------------------------------------------


def rank(n: int, p: float) -> int:
    """The 1-based rank of the p-quantile of n sorted values (nearest rank: the smallest
    value with at least p of all values at or below it)."""
    if n <= 0:
        raise ValueError("no value")
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    # Rounded first: 0.9 * 10 is 9.000000000000002 in floating point.
    return max(1, math.ceil(round(p * n, 9)))


def quantile(sorted_values: Sequence[float], p: float) -> float:
    return sorted_values[rank(len(sorted_values), p) - 1]


@dataclass(frozen=True)
class Distribution:
    """How long something took: clocks `started` in the period, `done` (stopped) by now,
    the rest still running. Median and p90 are over the done ones (nearest rank); each
    share within a limit counts the done-within-limit among all started ones, since a
    clock still running did not stop within the limit (at least not yet)."""

    started: int
    done: int
    median_s: float | None
    p90_s: float | None
    within: Mapping[str, int]

    @property
    def running(self) -> int:
        return self.started - self.done

    def share_within(self, limit: str) -> float | None:
        return share(self.within[limit], self.started)


def distribution(durations: Iterable[float], *, running: int = 0) -> Distribution:
    """The figures of a list of durations (seconds) of stopped clocks, and of `running`
    clocks not stopped yet."""
    values = sorted(max(0.0, float(v)) for v in durations)
    n = len(values)
    return Distribution(
        started=n + running,
        done=n,
        median_s=quantile(values, 0.5) if n else None,
        p90_s=quantile(values, 0.9) if n else None,
        within={name: sum(1 for v in values if v <= limit) for name, limit in LIMITS},
    )


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide."""
    return part / whole if whole else None


def change(current: float, previous: float) -> float | None:
    """Relative change (0.12 for 12 % more), None when there was nothing before."""
    return (current - previous) / previous if previous else None


# --- Writing numbers -----------------------------------------------------------------------

NARROW_NBSP = "\u202f"


def fmt_int(n: float, lang: str = "en") -> str:
    """2,340 in English, 2 340 in French (narrow no-break space)."""
    text = f"{round(n):,}"
    return text.replace(",", NARROW_NBSP) if lang == "fr" else text


def fmt_percent(x: float | None, lang: str = "en", *, digits: int = 0) -> str:
    """12% in English, 12 % in French; a dash when there is nothing to divide."""
    if x is None:
        return "—"
    text = f"{x * 100:.{digits}f}"
    if lang == "fr":
        return text.replace(".", ",") + NARROW_NBSP + "%"
    return text + "%"


def fmt_duration(seconds: float | None, tr: Translator = ENGLISH) -> str:
    """The two largest units, rounded down, a zero second one left out: 3 d 4 h, 2 d,
    5 h 20 min, 12 min, 40 s (French: 3 j 4 h)."""
    if seconds is None:
        return "—"
    s = round(seconds)
    d, rest = divmod(s, DAY_S)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d and h:
        return tr.gettext("%(days)d d %(hours)d h") % {"days": d, "hours": h}
    if d:
        return tr.gettext("%(days)d d") % {"days": d}
    if h and m:
        return tr.gettext("%(hours)d h %(minutes)d min") % {"hours": h, "minutes": m}
    if h:
        return tr.gettext("%(hours)d h") % {"hours": h}
    if m:
        return tr.gettext("%(minutes)d min") % {"minutes": m}
    return tr.gettext("%(seconds)d s") % {"seconds": sec}


# --- Tables ------------------------------------------------------------------------------

Cell = str | int | float | None
KINDS = ("label", "text", "count", "percent", "duration")


@dataclass(frozen=True)
class Table:
    """The numbers behind one chart, exactly as the chart draws them and the CSV holds
    them. `kinds` says what each column is: a label (the label columns name each row on
    the chart), a text shown in the table only, a count, a percent (a fraction, 0.12) or a
    duration (seconds)."""

    key: str
    title: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart: str = "bars"  # bars (horizontal) | lines (over time) | none
    plotted: tuple[int, ...] = ()  # the columns the chart draws
    note: str = ""

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.kinds):
            raise ValueError(f"{self.key}: one kind per column")
        if any(k not in KINDS for k in self.kinds):
            raise ValueError(f"{self.key}: kinds are among {KINDS}")
        if any(len(row) != len(self.columns) for row in self.rows):
            raise ValueError(f"{self.key}: every row has one value per column")

    def row_label(self, row: Sequence[Cell]) -> str:
        return " · ".join(str(v) for v, k in zip(row, self.kinds, strict=True) if k == "label")

    @property
    def is_empty(self) -> bool:
        return not any(isinstance(v, int | float) and v for row in self.rows for v in row)


def csv_text(table: Table, *, seconds: str = "s") -> str:
    """The table as CSV: the headers (durations in seconds, marked so), then the rows;
    percents as fractions, nothing as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        f"{c} ({seconds})" if k == "duration" else c
        for c, k in zip(table.columns, table.kinds, strict=True)
    )
    for row in table.rows:
        writer.writerow(csv_cell(v) for v in row)
    return buffer.getvalue()


def csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value == int(value) else f"{value:.4f}".rstrip("0")
    return str(value)


def fmt_cell(value: Cell, kind: str, lang: str = "en", tr: Translator = ENGLISH) -> str:
    """A cell as people read it."""
    if value is None:
        return "—"
    if kind == "count" and isinstance(value, int | float):
        return fmt_int(value, lang)
    if kind == "percent" and isinstance(value, int | float):
        return fmt_percent(value, lang)
    if kind == "duration" and isinstance(value, int | float):
        return fmt_duration(value, tr)
    return str(value)


# --- Commentary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The numbers the commentary speaks of, for one period and the one before."""

    period_label: str
    previous_label: str
    reports: int
    reports_before: int
    items: int
    items_before: int
    assessed: int
    illegal: int
    illegal_share_before: float | None
    known_auto: int
    top_country: str  # "" when no hosting country is known
    top_country_items: int
    hosted_items: int
    networks: int
    network_items: int
    forwarded: int
    notices_sent: int
    noticed: int
    removed: int
    assess: Distribution
    forward: Distribution
    removal: Distribution
    sla_started: int
    sla_breached: int


def _compare(current: int, before: int, previous_label: str, tr: Translator, lang: str) -> str:
    """', 12% more than in 2025' / ', 3% fewer than in …' / ', as many as in …' / '' when
    there was nothing before to compare with."""
    delta = change(current, before)
    if delta is None:
        return ""
    if abs(delta) < 0.005:
        return tr.gettext(", as many as in %(previous)s") % {"previous": previous_label}
    args = {"change": fmt_percent(abs(delta), lang), "previous": previous_label}
    if delta > 0:
        return tr.gettext(", %(change)s more than in %(previous)s") % args
    return tr.gettext(", %(change)s fewer than in %(previous)s") % args


def commentary(s: Summary, *, lang: str = "en", tr: Translator = ENGLISH) -> list[str]:
    """Short sentences made of the figures and comparisons only: nothing is said that the
    numbers do not say."""
    n = lambda x: fmt_int(x, lang)  # noqa: E731
    pct = lambda x: fmt_percent(x, lang)  # noqa: E731
    out: list[str] = []
    out.append(
        tr.ngettext(
            "%(count)s report received in %(period)s",
            "%(count)s reports received in %(period)s",
            s.reports,
        )
        % {"count": n(s.reports), "period": s.period_label}
        + _compare(s.reports, s.reports_before, s.previous_label, tr, lang)
        + "."
    )
    out.append(
        tr.ngettext(
            "They pointed at %(count)s new item (page, file or text)",
            "They pointed at %(count)s new items (pages, files or texts)",
            s.items,
        )
        % {"count": n(s.items)}
        + _compare(s.items, s.items_before, s.previous_label, tr, lang)
        + "."
    )
    if s.assessed:
        sentence = tr.ngettext(
            "%(assessed)s item was assessed by an analyst; %(illegal)s illegal (%(share)s)",
            "%(assessed)s items were assessed by an analyst; %(illegal)s illegal (%(share)s)",
            s.assessed,
        ) % {
            "assessed": n(s.assessed),
            "illegal": n(s.illegal),
            "share": pct(share(s.illegal, s.assessed)),
        }
        if s.illegal_share_before is not None:
            sentence += tr.gettext(", against %(share)s in %(previous)s") % {
                "share": pct(s.illegal_share_before),
                "previous": s.previous_label,
            }
        out.append(sentence + ".")
    else:
        out.append(tr.gettext("No item was assessed by an analyst."))
    if s.known_auto:
        out.append(
            tr.ngettext(
                "%(count)s item (%(share)s) was known content, handled without an analyst.",
                "%(count)s items (%(share)s) were known content, handled without an analyst.",
                s.known_auto,
            )
            % {"count": n(s.known_auto), "share": pct(share(s.known_auto, s.items))}
        )
    if s.top_country:
        out.append(
            tr.gettext(
                "Of %(hosted)s reported pages with a known hosting country, %(count)s "
                "(%(share)s) were hosted in %(country)s, more than in any other country."
            )
            % {
                "hosted": n(s.hosted_items),
                "count": n(s.top_country_items),
                "share": pct(share(s.top_country_items, s.hosted_items)),
                "country": s.top_country,
            }
        )
    if s.networks:
        out.append(
            tr.ngettext(
                "%(count)s network was found, joining %(items)s items.",
                "%(count)s networks were found, joining %(items)s items.",
                s.networks,
            )
            % {"count": n(s.networks), "items": n(s.network_items)}
        )
    for label, dist in (
        (tr.gettext("Time to assess"), s.assess),
        (tr.gettext("Time to forward to police or a partner"), s.forward),
        (tr.gettext("Time to removal"), s.removal),
    ):
        if dist.done:
            out.append(
                tr.gettext(
                    "%(what)s: median %(median)s, 90%% within %(p90)s; %(day)s within "
                    "24 hours, %(three)s within 3 days (of %(started)s)."
                )
                % {
                    "what": label,
                    "median": fmt_duration(dist.median_s, tr),
                    "p90": fmt_duration(dist.p90_s, tr),
                    "day": pct(dist.share_within("24h")),
                    "three": pct(dist.share_within("3d")),
                    "started": n(dist.started),
                }
            )
    if s.forwarded:
        out.append(
            tr.ngettext(
                "%(count)s item was forwarded to police or a partner hotline.",
                "%(count)s items were forwarded to police or a partner hotline.",
                s.forwarded,
            )
            % {"count": n(s.forwarded)}
        )
    if s.noticed:
        out.append(
            tr.ngettext(
                "%(removed)s of %(noticed)s page noticed to its host was removed (%(share)s); "
                "%(sent)s notices sent in all.",
                "%(removed)s of %(noticed)s pages noticed to their hosts were removed "
                "(%(share)s); %(sent)s notices sent in all.",
                s.noticed,
            )
            % {
                "removed": n(s.removed),
                "noticed": n(s.noticed),
                "share": pct(share(s.removed, s.noticed)),
                "sent": n(s.notices_sent),
            }
        )
    if s.sla_started:
        out.append(
            tr.gettext(
                "%(breached)s of %(started)s items (%(share)s) were assessed after their "
                "priority's deadline or are still waiting past it."
            )
            % {
                "breached": n(s.sla_breached),
                "started": n(s.sla_started),
                "share": pct(share(s.sla_breached, s.sla_started)),
            }
        )
    return out


def top(rows: Iterable[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    """The largest counts first, ties by label."""
    return sorted(rows, key=lambda r: (-r[1], r[0]))[:limit]
