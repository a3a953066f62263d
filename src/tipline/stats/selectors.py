"""Statistics' reads: the figures of a period [start, end) and an optional theme, summed
from the daily summaries (one function per group of figures, a few queries each), and
`dashboard` gathering them all."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from . import core
from .models import DailyCount, Duration, Refresh
from .services import ALL_THEMES, ILLEGAL, NON_ADDITIVE

PRIORITIES = ("P1", "P2", "P3", "P4")
CLASSIFICATIONS = ("baseline", "national", "doubtful", "not_illegal")
DESTINATION_KINDS = ("office", "partner", "host")
DISPATCH_STATES = (
    "proposed",
    "pending",
    "sent",
    "acknowledged",
    "failed",
    "undeliverable",
    "cancelled",
)
# Below this many durations a quantile is computed from the values read; above, it is
# read as the n-th entry of the (metric, seconds) index, which costs the same at any size.
READ_ALL_BELOW = 50_000


@dataclass(frozen=True)
class Filters:
    period: core.Period
    theme: str | None = None  # None: every theme
    unit: str = "month"
    # The database read: "default" (the primary), or the read replica for callers that
    # tolerate a little lag (settings.LAGGING_READS_DATABASE).
    using: str = "default"

    def previous(self) -> Filters:
        return Filters(self.period.previous(), self.theme, self.unit, self.using)


def _theme_q(theme: str | None) -> Q:
    """Rows of the theme; for every theme, the "*" rows of the figures that do not add
    up across themes and the per-theme rows of the others."""
    if theme is not None:
        return Q(theme=theme)
    return Q(figure__in=NON_ADDITIVE, theme=ALL_THEMES) | (
        ~Q(figure__in=NON_ADDITIVE) & ~Q(theme=ALL_THEMES)
    )


def sums(f: Filters, figures: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """{figure: {key: total}} over the period."""
    out: dict[str, dict[str, int]] = {name: defaultdict(int) for name in figures}
    rows = (
        DailyCount.objects.using(f.using)
        .filter(
            _theme_q(f.theme),
            figure__in=figures,
            day__gte=f.period.start,
            day__lt=f.period.end,
        )
        .values("figure", "key")
        .annotate(total=Sum("n"))
        .order_by()
    )
    for r in rows:
        out[r["figure"]][r["key"]] += r["total"]
    return out


def sums_by_day(f: Filters, figure: str) -> dict[date, int]:
    rows = (
        DailyCount.objects.using(f.using)
        .filter(_theme_q(f.theme), figure=figure, day__gte=f.period.start, day__lt=f.period.end)
        .values("day")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return {r["day"]: r["total"] for r in rows}


def as_of(using: str = "default") -> datetime | None:
    """When the figures were true (None: never computed)."""
    return Refresh.objects.using(using).filter(pk=1).values_list("as_of", flat=True).first()


# --- Volumes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Volumes:
    reports: int
    items: int
    series: list[tuple[core.Bucket, int, int]]  # bucket, reports, items
    reports_by_channel: dict[str, int]
    reports_by_theme: dict[str, int]  # "" = not harmonized yet
    items_by_theme: dict[str, int]
    items_by_kind: dict[str, int]


def volumes(f: Filters) -> Volumes:
    """Reports received and new items (first reported) over time, by channel, theme, kind."""
    by_channel: dict[str, int] = defaultdict(int)
    by_theme: dict[str, dict[str, int]] = {"reports": defaultdict(int), "items": defaultdict(int)}
    by_kind: dict[str, int] = defaultdict(int)
    by_day: dict[str, dict[date, int]] = {"reports": defaultdict(int), "items": defaultdict(int)}
    rows = (
        DailyCount.objects.using(f.using)
        .filter(
            _theme_q(f.theme),
            figure__in=("reports", "items"),
            day__gte=f.period.start,
            day__lt=f.period.end,
        )
        .values("figure", "day", "theme", "key")
        .annotate(total=Sum("n"))
        .order_by()
    )
    for r in rows:
        fig, n = r["figure"], r["total"]
        by_day[fig][r["day"]] += n
        by_theme[fig][r["theme"]] += n
        if fig == "reports":
            by_channel[r["key"]] += n
        else:
            by_kind[r["key"]] += n
    reports = core.series(by_day["reports"], f.period, f.unit)
    items = dict(core.series(by_day["items"], f.period, f.unit))
    return Volumes(
        reports=sum(by_channel.values()),
        items=sum(by_kind.values()),
        series=[(b, n, items[b]) for b, n in reports],
        reports_by_channel=dict(by_channel),
        reports_by_theme=dict(by_theme["reports"]),
        items_by_theme=dict(by_theme["items"]),
        items_by_kind=dict(by_kind),
    )


# --- Assessment and known content ------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    items: int
    by_classification: dict[str, int]
    known_matched: int  # matched a hash bank
    known_auto: int  # closed as known content without an analyst

    @property
    def assessed(self) -> int:
        return sum(self.by_classification.values())

    @property
    def illegal(self) -> int:
        return sum(n for c, n in self.by_classification.items() if c in ILLEGAL)

    @property
    def illegal_share(self) -> float | None:
        return core.share(self.illegal, self.assessed)

    @property
    def known_auto_share(self) -> float | None:
        return core.share(self.known_auto, self.items)


def assessment(f: Filters) -> Assessment:
    """Of the items first reported in the period: how analysts classified them, and how
    many were known content."""
    s = sums(f, ("items", "assessment", "known"))
    return Assessment(
        items=sum(s["items"].values()),
        by_classification=dict(s["assessment"]),
        known_matched=s["known"].get("matched", 0),
        known_auto=s["known"].get("auto_handled", 0),
    )


# --- Hosting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hosting:
    rows: list[tuple[str, int, int]]  # country ("" unknown), pages, illegal pages
    pages: int

    @property
    def located(self) -> int:
        return sum(n for c, n, _ in self.rows if c)


def hosting(f: Filters) -> Hosting:
    """Pages first reported in the period by the country they were hosted in (the newest
    known when they were last routed), most first; unknown last."""
    s = sums(f, ("hosting", "hosting_illegal"))
    pages, illegal = s["hosting"], s["hosting_illegal"]
    known = core.top(((c, n) for c, n in pages.items() if c), limit=10_000)
    rows = [(c, n, illegal.get(c, 0)) for c, n in known]
    if pages.get(""):
        rows.append(("", pages[""], illegal.get("", 0)))
    return Hosting(rows=rows, pages=sum(pages.values()))


# --- Networks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Networks:
    networks: int
    items: int


def networks(f: Filters) -> Networks:
    """Networks found in the period and still standing (not merged into another); for a
    theme, those holding one of its items, and their items of that theme."""
    s = sums(f, ("networks",))["networks"]
    return Networks(networks=s.get("networks", 0), items=s.get("items", 0))


# --- Dispatches and notices ------------------------------------------------------------------


@dataclass(frozen=True)
class Dispatches:
    by_outcome: dict[tuple[str, str], int]  # (destination kind, state) → dispatches
    notices_first: int
    notices_repeat: int

    def to(self, *kinds: str) -> int:
        return sum(n for (k, _), n in self.by_outcome.items() if k in kinds)

    def sent_to(self, *kinds: str) -> int:
        return sum(
            n
            for (k, state), n in self.by_outcome.items()
            if k in kinds and state in ("sent", "acknowledged")
        )


def dispatches(f: Filters) -> Dispatches:
    """Dispatches and notices created in the period by destination and where they stand;
    notices sent in the period, first and repeated."""
    s = sums(f, ("dispatches", "notices"))
    by_outcome: dict[tuple[str, str], int] = {}
    for key, n in s["dispatches"].items():
        kind, _, state = key.partition(":")
        by_outcome[(kind, state)] = n
    return Dispatches(
        by_outcome=by_outcome,
        notices_first=s["notices"].get("first", 0),
        notices_repeat=s["notices"].get("repeat", 0),
    )


# --- Times ---------------------------------------------------------------------------------

METRICS = ("assess", "forward", "removal")


@dataclass(frozen=True)
class Timings:
    assess: core.Distribution
    forward: core.Distribution
    removal: core.Distribution

    def each(self) -> list[tuple[str, core.Distribution]]:
        return [("assess", self.assess), ("forward", self.forward), ("removal", self.removal)]


def _durations(f: Filters, metric: str) -> Q:
    q = Q(metric=metric, day__gte=f.period.start, day__lt=f.period.end)
    return q & Q(theme=f.theme) if f.theme is not None else q


def quantiles(f: Filters, metric: str, done: int) -> tuple[float | None, float | None]:
    """Median and p90 (nearest rank) of the metric's durations in the period."""
    if not done:
        return None, None
    rows = Duration.objects.using(f.using).filter(_durations(f, metric))
    if done < READ_ALL_BELOW:
        # Read by day and sorted here: ordered by the database, the period's rows would be
        # looked for along the whole (metric, seconds) index.
        values = sorted(rows.values_list("seconds", flat=True))
        if not values:  # a refresh is rewriting these days
            return None, None
        return float(core.quantile(values, 0.5)), float(core.quantile(values, 0.9))
    return _quantile(rows, 0.5, done), _quantile(rows, 0.9, done)


def timings(f: Filters) -> Timings:
    """Time to assess (first report → assessment), to forward (first report → first
    dispatch to police or a partner sent) and to removal (notice → page gone), for the
    clocks started in the period (docs/statistics.md)."""
    s = sums(f, METRICS)
    out = {}
    for metric in METRICS:
        c = s[metric]
        done = c.get("done", 0)
        median, p90 = quantiles(f, metric, done)
        out[metric] = core.Distribution(
            started=c.get("started", 0),
            done=done,
            median_s=median,
            p90_s=p90,
            within={name: c.get(name, 0) for name, _ in core.LIMITS},
        )
    return Timings(**out)


# --- SLA -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaRow:
    priority: str
    limit_s: float | None
    items: int  # items an analyst had to assess
    late: int  # assessed after the deadline
    waiting: int  # still waiting past it

    @property
    def breached(self) -> int:
        return self.late + self.waiting


def sla(f: Filters) -> list[SlaRow]:
    """Per priority: items to assess first reported in the period, how many were assessed
    after their priority's deadline (settings.CONSOLE_SLA_S), how many still wait past it."""
    s = sums(f, ("sla",))["sla"]
    return [
        SlaRow(
            priority=p,
            limit_s=settings.CONSOLE_SLA_S.get(p),
            items=s.get(f"{p}:started", 0),
            late=s.get(f"{p}:late", 0),
            waiting=s.get(f"{p}:waiting", 0),
        )
        for p in PRIORITIES
    ]


# --- Hosting providers -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderRow:
    provider: str
    removed: int
    online: int
    median_s: float | None
    p90_s: float | None
    slowest_s: float | None


# Up to this many providers, each one's median is read from the index (one query each);
# beyond, every removal time of the period is read at once.
WALK_PROVIDERS = 40


def _quantile(qs: QuerySet[Duration], p: float, count: int) -> float | None:
    """The p-quantile (nearest rank) of the `count` durations `qs` selects, read as one
    entry of the index, counted from the nearer end. While a refresh rewrites these days
    the count and the rows may differ for a moment: then the rows there are read."""
    n = core.rank(count, p) - 1
    ordered = qs.order_by("seconds").values_list("seconds", flat=True)
    try:
        if n < count // 2:
            return float(ordered[n])
        return float(ordered.reverse()[count - 1 - n])
    except IndexError:
        values = sorted(qs.values_list("seconds", flat=True))
        return float(core.quantile(values, p)) if values else None


def providers(f: Filters, *, limit: int = 10) -> list[ProviderRow]:
    """The hosting providers slowest to remove what they were noticed of in the period:
    by median time to removal, longest first (ties: more removals first); providers with
    pages still online and none removed come after."""
    s = sums(f, ("provider_removed", "provider_online"))
    removed, online = s["provider_removed"], s["provider_online"]
    medians: dict[str, float] = {}
    values: dict[str, list[float]] = {}
    if len(removed) > WALK_PROVIDERS:
        grouped: dict[str, list[float]] = defaultdict(list)
        for name, seconds in (
            Duration.objects.using(f.using)
            .filter(_durations(f, "removal"))
            .values_list("provider", "seconds")
        ):
            grouped[name].append(float(seconds))
        values = {name: sorted(v) for name, v in grouped.items()}
        medians = {name: core.quantile(v, 0.5) for name, v in values.items()}
    else:
        for name, n in removed.items():
            of = Duration.objects.using(f.using).filter(_durations(f, "removal"), provider=name)
            median = _quantile(of, 0.5, n)
            if median is not None:
                medians[name] = median

    def order(name: str) -> tuple[bool, float, int, int, str]:
        median = medians.get(name)
        return (median is None, -(median or 0), -removed.get(name, 0), -online.get(name, 0), name)

    rows = []
    for name in sorted(set(removed) | set(online), key=order)[:limit]:
        n = removed.get(name, 0)
        if not n:
            p90 = slowest = None
        elif name in values:
            p90, slowest = core.quantile(values[name], 0.9), values[name][-1]
        else:
            of = Duration.objects.using(f.using).filter(_durations(f, "removal"), provider=name)
            p90, slowest = _quantile(of, 0.9, n), _quantile(of, 1.0, n)
        rows.append(
            ProviderRow(
                provider=name,
                removed=n,
                online=online.get(name, 0),
                median_s=medians.get(name),
                p90_s=p90,
                slowest_s=slowest,
            )
        )
    return rows


# --- Everything ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    as_of: datetime | None
    volumes: Volumes
    assessment: Assessment
    hosting: Hosting
    networks: Networks
    dispatches: Dispatches
    timings: Timings
    sla: list[SlaRow]
    providers: list[ProviderRow]
    # The period before, for comparisons.
    previous_reports: int = 0
    previous_items: int = 0
    previous_illegal_share: float | None = None


def dashboard(
    *,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    theme: str | None = None,
    unit: str | None = None,
    using: str = "default",
) -> Dashboard:
    """Every figure of the dashboard for a year, or for [start, end), and a theme, read from
    the database `using` names."""
    if year is not None:
        period = core.Period.year(year)
    elif start is not None and end is not None:
        period = core.Period(start, end)
    else:
        raise ValueError("give a year, or a start and an end")
    f = Filters(
        period=period, theme=theme or None, unit=unit or core.auto_unit(period), using=using
    )
    before = sums(f.previous(), ("reports", "items", "assessment"))
    before_assessed = sum(before["assessment"].values())
    before_illegal = sum(n for c, n in before["assessment"].items() if c in ILLEGAL)
    return Dashboard(
        filters=f,
        as_of=as_of(using),
        volumes=volumes(f),
        assessment=assessment(f),
        hosting=hosting(f),
        networks=networks(f),
        dispatches=dispatches(f),
        timings=timings(f),
        sla=sla(f),
        providers=providers(f),
        previous_reports=sum(before["reports"].values()),
        previous_items=sum(before["items"].values()),
        previous_illegal_share=core.share(before_illegal, before_assessed),
    )


def summary(d: Dashboard) -> core.Summary:
    """The numbers the commentary speaks of."""
    located = [(c, n) for c, n, _ in d.hosting.rows if c]
    top_country, top_items = located[0] if located else ("", 0)
    return core.Summary(
        period_label=d.filters.period.label(),
        previous_label=d.filters.period.previous().label(),
        reports=d.volumes.reports,
        reports_before=d.previous_reports,
        items=d.volumes.items,
        items_before=d.previous_items,
        assessed=d.assessment.assessed,
        illegal=d.assessment.illegal,
        illegal_share_before=d.previous_illegal_share,
        known_auto=d.assessment.known_auto,
        top_country=top_country,
        top_country_items=top_items,
        hosted_items=d.hosting.located,
        networks=d.networks.networks,
        network_items=d.networks.items,
        forwarded=d.timings.forward.done,
        notices_sent=d.dispatches.notices_first + d.dispatches.notices_repeat,
        noticed=d.timings.removal.started,
        removed=d.timings.removal.done,
        assess=d.timings.assess,
        forward=d.timings.forward,
        removal=d.timings.removal,
        sla_started=sum(r.items for r in d.sla),
        sla_breached=sum(r.breached for r in d.sla),
    )
