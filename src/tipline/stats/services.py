"""Statistics' writes: bringing the daily summaries up to date from the other stages' data.

A refresh recomputes whole days: the days something changed on since the last refresh
(with an overlap for transactions that committed late), the recent days whose SLA
counts move with the clock alone, or every day (`full`). The figures are read first, no
lock held; then each stretch of days is deleted and written again in one transaction, so
a reader sees a day either before or after."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    DateTimeField,
    F,
    FilteredRelation,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from tipline.analyze.models import HostingLookup
from tipline.common.bulk import insert_rows, update_rows
from tipline.crossref.models import Membership, Network
from tipline.harmonize.models import Harmonization, Item
from tipline.intake.models import Report
from tipline.orient.models import (
    DestinationKind,
    Dispatch,
    DispatchKind,
    DispatchState,
    Routing,
    Takedown,
)

from . import core
from .models import DailyCount, Duration, Refresh

log = logging.getLogger(__name__)

ALL_THEMES = "*"
ILLEGAL = ("baseline", "national")
# Figures counted per theme that do not add up across themes: also kept for "*".
NON_ADDITIVE = ("networks",)
# Rows written late by a long transaction still get counted: changes are looked for from
# this long before the previous refresh.
OVERLAP = timedelta(minutes=15)
_BANDS = ((1, ("24h", "3d", "7d")), (2, ("3d", "7d")), (3, ("7d",)))

Ranges = Sequence[tuple[date, date]]  # [start, end) day ranges
# Days read at a time: rebuilding a year reads the other stages' tables four times (a
# quarter's rows are a few hundred thousand in memory at a million items a year).
CHUNK_DAYS = 92
# Durations written or deleted per transaction: the write lock is held about a second.
WRITE_BATCH = 20_000
# A refresh not heard of for this long has died: another may start.
RUNNING_FOR_AT_MOST = timedelta(hours=1)


class Seconds(Func):
    """Whole seconds from `start` to `end`, rounded; NULL when either is NULL."""

    output_field = BigIntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "sqlite":
            sql = f"CAST(ROUND((julianday({end_sql}) - julianday({start_sql})) * 86400) AS INTEGER)"
        else:
            sql = f"CAST(ROUND(EXTRACT(EPOCH FROM ({end_sql} - {start_sql}))) AS BIGINT)"
        return sql, [*end_params, *start_params]


@dataclass(frozen=True)
class Refreshed:
    as_of: datetime
    full: bool  # every day was recomputed
    days: int  # days recomputed
    took_s: float


def summaries_refresh(*, full: bool = False, now: datetime | None = None) -> Refreshed | None:
    """Bring the summaries up to date: the days touched since the last refresh, or every
    day when `full` (also when it never ran, or the time zone changed). None when another
    refresh is running (one at a time; a refresh silent for RUNNING_FOR_AT_MOST is taken
    over).

    Everything is read first, without holding the database's write lock (the pipeline
    keeps writing meanwhile); then each stretch of days is brought up to date with what
    changed only, in short transactions."""
    started = time.monotonic()
    now = now or timezone.now()
    zone = timezone.get_current_timezone_name()
    if not _take_turn():
        log.info("statistics: a refresh is running already")
        return None
    try:
        state = Refresh.objects.get(pk=1)
        last = state.as_of if state.time_zone == zone else None
        rebuild = full or last is None
        if last is None or full:
            span = data_span(now)
            ranges = [span] if span else []
        else:
            ranges = day_ranges(touched_days(since=last - OVERLAP) | recent_days(now))
        for chunk in chunked(ranges, CHUNK_DAYS):
            counts, durations = _compute(chunk, now)
            _write(chunk, counts, durations)
        days = sum((end - start).days for start, end in ranges)
        took = time.monotonic() - started
        with transaction.atomic():
            if rebuild:
                # Days outside the data (a time zone changed, data deleted) keep nothing.
                outside = ~_day_q(ranges) if ranges else Q()
                DailyCount.objects.filter(outside).delete()
                Duration.objects.filter(outside).delete()
            Refresh.objects.filter(pk=1).update(as_of=now, time_zone=zone, days=days, took_s=took)
    finally:
        Refresh.objects.filter(pk=1).update(running_since=None)
    log.info("statistics refreshed: %s days%s in %.2f s", days, " (all)" if rebuild else "", took)
    return Refreshed(as_of=now, full=rebuild, days=days, took_s=took)


def _take_turn() -> bool:
    """Mark a refresh as running, unless one is (and was heard of lately)."""
    moment = timezone.now()
    Refresh.objects.get_or_create(pk=1)
    return bool(
        Refresh.objects.filter(pk=1)
        .filter(Q(running_since__isnull=True) | Q(running_since__lt=moment - RUNNING_FOR_AT_MOST))
        .update(running_since=moment)
    )


def data_span(now: datetime) -> tuple[date, date] | None:
    """From the day of the first report to today (or the last report's day, if later):
    everything any figure files falls within (an item is first reported by a report;
    dispatches, takedowns and networks come after)."""
    span = Report.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    if span["first"] is None:
        return None
    last = max(timezone.localdate(span["last"]), timezone.localdate(now))
    return timezone.localdate(span["first"]), last + timedelta(days=1)


def chunked(ranges: Sequence[tuple[date, date]], size: int) -> list[list[tuple[date, date]]]:
    """The ranges cut into groups of at most `size` days."""
    pieces = []
    for start, end in ranges:
        while start < end:
            stop = min(end, start + timedelta(days=size))
            pieces.append((start, stop))
            start = stop
    chunks: list[list[tuple[date, date]]] = []
    total = size
    for start, end in pieces:
        if total + (end - start).days > size:
            chunks.append([])
            total = 0
        chunks[-1].append((start, end))
        total += (end - start).days
    return chunks


def recent_days(now: datetime) -> set[date]:
    """Days whose items may still cross their SLA deadline while nothing changes."""
    horizon = max(settings.CONSOLE_SLA_S.values(), default=0) + core.DAY_S
    today = timezone.localdate(now)
    first = timezone.localdate(now - timedelta(seconds=horizon))
    return {first + timedelta(days=i) for i in range((today - first).days + 1)}


def touched_days(*, since: datetime) -> set[date]:
    """Every day whose figures a change made at or after `since` may have moved."""
    days: set[date] = set()

    def add(qs: QuerySet[Any], *fields: str) -> None:
        for f in fields:
            days.update(
                d
                for d in qs.annotate(_d=TruncDate(f)).values_list("_d", flat=True).distinct()
                if d is not None
            )

    add(Report.objects.filter(received_at__gte=since), "received_at")
    add(Harmonization.objects.filter(harmonized_at__gte=since), "report__received_at")
    add(
        Item.objects.filter(
            Q(first_reported_at__gte=since)
            | Q(last_reported_at__gte=since)
            | Q(assessed_at__gte=since)
        ),
        "first_reported_at",
    )
    add(Routing.objects.filter(decided_at__gte=since), "item__first_reported_at")
    changed = (
        Q(created_at__gte=since)
        | Q(queued_at__gte=since)
        | Q(sent_at__gte=since)
        | Q(acknowledged_at__gte=since)
        | Q(closed_at__gte=since)
    )
    add(
        Dispatch.objects.filter(changed, kind__in=[DispatchKind.DISPATCH, DispatchKind.NOTICE]),
        "created_at",
        "sent_at",
        "item__first_reported_at",
    )
    add(
        Takedown.objects.filter(
            Q(opened_at__gte=since)
            | Q(first_notice_at__gte=since)
            | Q(last_notice_at__gte=since)
            | Q(removed_at__gte=since)
        ),
        "opened_at",
        "first_notice_at",
    )
    add(Network.objects.filter(Q(created_at__gte=since) | Q(updated_at__gte=since)), "created_at")
    return days


def day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Days as [start, end) runs of consecutive days."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return out


def _moment(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, datetime.min.time()))


def _within(field: str, ranges: Ranges) -> Q:
    """`field` falls on one of the days (in the current time zone)."""
    q = Q(pk__in=[])
    for start, end in ranges:
        q |= Q(**{f"{field}__gte": _moment(start), f"{field}__lt": _moment(end)})
    return q


def _day_q(ranges: Sequence[tuple[date, date]]) -> Q:
    q = Q(pk__in=[])
    for start, end in ranges:
        q |= Q(day__gte=start, day__lt=end)
    return q


Counts = dict[tuple[date, str, str, str], int]


DurationRow = tuple[str, date, str, int, str]  # metric, day, theme, seconds, provider


def _compute(ranges: Ranges, now: datetime) -> tuple[Counts, list[DurationRow]]:
    """Every figure of these days, read from the other stages' tables."""
    counts: Counts = defaultdict(int)
    durations: list[DurationRow] = []
    _reports(counts, ranges)
    _items(counts, ranges, now)
    durations += _assess_durations(ranges)
    durations += _forwards(counts, ranges)
    _dispatches(counts, ranges)
    durations += _takedowns(counts, ranges)
    _networks(counts, ranges)
    return counts, durations


def _write(ranges: Ranges, counts: Counts, durations: list[DurationRow]) -> None:
    """Make these days' summaries what was computed, changing only what differs (most
    days of a refresh have not changed, and every row written or deleted costs its four
    index entries); at most WRITE_BATCH rows a transaction, so the write lock is never
    held long. One refresh runs at a time, so nobody writes these days meanwhile."""
    day_q = _day_q(ranges)
    old_counts = {
        (d, t, f, k): (pk, n)
        for pk, d, t, f, k, n in DailyCount.objects.filter(day_q).values_list(
            "pk", "day", "theme", "figure", "key", "n"
        )
    }
    new_counts = {key: n for key, n in counts.items() if n}
    gone = [pk for key, (pk, _n) in old_counts.items() if key not in new_counts]
    changed = [
        (n, old_counts[key][0])
        for key, n in new_counts.items()
        if key in old_counts and old_counts[key][1] != n
    ]
    added = [[*key, n] for key, n in new_counts.items() if key not in old_counts]
    # Durations are a multiset: keep as many of each row as are still there.
    wanted = Counter(durations)
    stale: list[int] = []
    for pk, *row in Duration.objects.filter(day_q).values_list(
        "pk", "metric", "day", "theme", "seconds", "provider"
    ):
        key = cast(DurationRow, tuple(row))
        if wanted[key] > 0:
            wanted[key] -= 1
        else:
            stale.append(pk)
    fresh = list(wanted.elements())
    with transaction.atomic():
        # The days' counts change together: a reader sees all of a day's counts before,
        # or all after.
        _delete(DailyCount, gone)
        update_rows(DailyCount, ["n"], changed)
        insert_rows(DailyCount, ["day", "theme", "figure", "key", "n"], added)
    for i in range(0, max(len(stale), len(fresh)), WRITE_BATCH):
        with transaction.atomic():
            _delete(Duration, stale[i : i + WRITE_BATCH])
            insert_rows(
                Duration,
                ["metric", "day", "theme", "seconds", "provider"],
                fresh[i : i + WRITE_BATCH],
            )


def _delete(model: type[DailyCount] | type[Duration], pks: Sequence[int]) -> None:
    for i in range(0, len(pks), 900):  # below SQLite's limit on parameters
        model.objects.filter(pk__in=pks[i : i + 900]).delete()


def _reports(counts: Counts, ranges: Ranges) -> None:
    rows = (
        Report.objects.filter(_within("received_at", ranges))
        .annotate(d=TruncDate("received_at"), t=Coalesce(F("harmonization__theme"), Value("")))
        .values("d", "t", "channel")
        .annotate(n=Count("id"))
    )
    for r in rows:
        counts[(r["d"], r["t"], "reports", r["channel"])] += r["n"]


def _items(counts: Counts, ranges: Ranges, now: datetime) -> None:
    """Items by the day they were first reported: kinds, assessments, known content,
    hosting countries, the assessment clock and the SLA, in one grouped read."""
    sla = settings.CONSOLE_SLA_S
    late = Case(
        *[
            When(
                Q(prio=p) & (Q(wait__gt=limit) | Q(assessed_at__isnull=True, age__gt=limit)),
                then=Value(True),
            )
            for p, limit in sla.items()
        ],
        default=Value(False),
        output_field=BooleanField(),
    )
    rows = (
        Item.objects.filter(_within("first_reported_at", ranges))
        .annotate(cur=FilteredRelation("routings", condition=Q(routings__is_current=True)))
        .annotate(
            d=TruncDate("first_reported_at"),
            wait=Seconds(F("assessed_at"), F("first_reported_at")),
            age=Seconds(Value(now, output_field=DateTimeField()), F("first_reported_at")),
            prio=Coalesce(F("cur__priority"), Value("P4")),
            close=Coalesce(F("cur__close_as"), Value("")),
            country=Coalesce(F("cur__hosting_country"), Value("")),
            known=Coalesce(F("cur__known_content"), Value(False)),
        )
        .annotate(
            band=Case(
                When(assessed_at__isnull=True, then=Value(0)),
                When(wait__lte=core.DAY_S, then=Value(1)),
                When(wait__lte=3 * core.DAY_S, then=Value(2)),
                When(wait__lte=7 * core.DAY_S, then=Value(3)),
                default=Value(4),
            ),
            late=late,
        )
        .values(
            "d",
            "theme",
            "kind",
            "classification",
            "close",
            "country",
            "known",
            "prio",
            "band",
            "late",
        )
        .annotate(n=Count("id"))
    )
    for r in rows:
        d, t, n = r["d"], r["theme"], r["n"]
        assessed = r["band"] != 0
        counts[(d, t, "items", r["kind"])] += n
        if assessed:
            counts[(d, t, "assessment", r["classification"])] += n
        if r["known"]:
            counts[(d, t, "known", "matched")] += n
            if not assessed and r["close"] == "known":
                counts[(d, t, "known", "auto_handled")] += n
        if r["kind"] == "url":
            counts[(d, t, "hosting", r["country"])] += n
            if assessed and r["classification"] in ILLEGAL:
                counts[(d, t, "hosting_illegal", r["country"])] += n
        # The assessment clock runs for every item an analyst has to look at: not for
        # known content handled without one, nor for an item closed otherwise unassessed.
        if assessed or not r["close"]:
            counts[(d, t, "assess", "started")] += n
            counts[(d, t, "sla", f"{r['prio']}:started")] += n
            if assessed:
                counts[(d, t, "assess", "done")] += n
                for band, limits in _BANDS:
                    if r["band"] == band:
                        for limit in limits:
                            counts[(d, t, "assess", limit)] += n
            if r["late"]:
                late_key = "late" if assessed else "waiting"
                counts[(d, t, "sla", f"{r['prio']}:{late_key}")] += n


def _assess_durations(ranges: Ranges) -> list[DurationRow]:
    rows = (
        Item.objects.filter(_within("first_reported_at", ranges), assessed_at__isnull=False)
        .annotate(
            d=TruncDate("first_reported_at"), s=Seconds(F("assessed_at"), F("first_reported_at"))
        )
        .values_list("d", "theme", "s")
    )
    return [("assess", d, theme, max(0, seconds), "") for d, theme, seconds in rows]


def _clock(
    counts: Counts, day: date, theme: str, metric: str, seconds: float | None, provider: str = ""
) -> DurationRow | None:
    """Count a clock started on `day`, stopped after `seconds` (None: still running)."""
    counts[(day, theme, metric, "started")] += 1
    if seconds is None:
        return None
    whole = max(0, round(seconds))
    counts[(day, theme, metric, "done")] += 1
    for name, limit in core.LIMITS:
        if whole <= limit:
            counts[(day, theme, metric, name)] += 1
    return (metric, day, theme, whole, provider[:255])


def _forwards(counts: Counts, ranges: Ranges) -> list[DurationRow]:
    """The forwarding clock of each item that is to go to police or a partner hotline: from
    its first report to the first dispatch sent."""
    rows = (
        Dispatch.objects.filter(
            _within("item__first_reported_at", ranges),
            kind=DispatchKind.DISPATCH,
            destination__kind__in=[DestinationKind.OFFICE, DestinationKind.PARTNER],
        )
        .exclude(state=DispatchState.CANCELLED)
        .values("item_id", "item__first_reported_at", "item__theme")
        .annotate(sent=Min("sent_at"))
    )
    durations = []
    for r in rows:
        first = r["item__first_reported_at"]
        seconds = (r["sent"] - first).total_seconds() if r["sent"] else None
        day = timezone.localdate(first)
        d = _clock(counts, day, r["item__theme"], "forward", seconds)
        if d is not None:
            durations.append(d)
    return durations


def _dispatches(counts: Counts, ranges: Ranges) -> None:
    rows = (
        Dispatch.objects.filter(
            _within("created_at", ranges), kind__in=[DispatchKind.DISPATCH, DispatchKind.NOTICE]
        )
        .annotate(d=TruncDate("created_at"), t=Coalesce(F("item__theme"), Value("")))
        .values("d", "t", "destination__kind", "state")
        .annotate(n=Count("id"))
    )
    for r in rows:
        key = f"{r['destination__kind'] or 'none'}:{r['state']}"
        counts[(r["d"], r["t"], "dispatches", key)] += r["n"]
    notices = (
        Dispatch.objects.filter(
            _within("sent_at", ranges), kind=DispatchKind.NOTICE, sent_at__isnull=False
        )
        .annotate(
            d=TruncDate("sent_at"),
            t=Coalesce(F("item__theme"), Value("")),
            again=Case(When(sequence__gt=1, then=Value(True)), default=Value(False)),
        )
        .values("d", "t", "again")
        .annotate(n=Count("id"))
    )
    for n in notices:
        counts[(n["d"], n["t"], "notices", "repeat" if n["again"] else "first")] += n["n"]


def providers_of(hosts: Iterable[str]) -> dict[str, str]:
    """Who hosts each host: the organisation of its network (AS) from the newest lookup
    that named one, else the AS number, else the host name itself."""
    hosts = set(hosts)
    found: dict[str, str] = {}
    lookups = (
        HostingLookup.objects.filter(host__in=hosts)
        .filter(Q(asn__isnull=False) | ~Q(as_org=""))
        .order_by("host", "-looked_up_at", "-id")
        .values_list("host", "as_org", "asn")
    )
    for host, org, asn in lookups:
        if host not in found:
            found[host] = org or f"AS{asn}"
    return {h: found.get(h) or h or "unknown" for h in hosts}


def _takedowns(counts: Counts, ranges: Ranges) -> list[DurationRow]:
    """Takedowns by the day their clock started: the first notice, or the day one was
    opened without a notice of ours (a partner or an analyst saw the page gone first) —
    as orient counts time to removal."""
    start = Coalesce(F("first_notice_at"), F("opened_at"))
    rows = list(
        Takedown.objects.annotate(start=start)
        .filter(_within("start", ranges))
        .values("start", "removed_at", "host", "item__theme")
    )
    providers = providers_of(r["host"] for r in rows)
    durations = []
    for r in rows:
        day = timezone.localdate(r["start"])
        theme = r["item__theme"]
        provider = providers[r["host"]]
        removed = r["removed_at"]
        seconds = (removed - r["start"]).total_seconds() if removed else None
        counts[(day, theme, "provider_removed" if removed else "provider_online", provider)] += 1
        d = _clock(counts, day, theme, "removal", seconds, provider)
        if d is not None:
            durations.append(d)
    return durations


def _networks(counts: Counts, ranges: Ranges) -> None:
    """Networks standing now (not merged into another), by the day they were found; for a
    theme, those holding at least one of its items."""
    standing = Network.objects.filter(
        _within("created_at", ranges), merged_into__isnull=True, item_count__gte=2
    )
    networks = {n["id"]: n for n in standing.values("id", "created_at", "item_count")}
    for n in networks.values():
        day = timezone.localdate(n["created_at"])
        counts[(day, ALL_THEMES, "networks", "networks")] += 1
        counts[(day, ALL_THEMES, "networks", "items")] += n["item_count"]
    if not networks:
        return
    members = (
        Membership.objects.filter(network__in=standing)
        .values("network_id", "item__theme")
        .annotate(n=Count("item_id"))
    )
    for m in members:
        network = networks.get(m["network_id"])
        if network is None:
            continue
        day = timezone.localdate(network["created_at"])
        counts[(day, m["item__theme"], "networks", "networks")] += 1
        counts[(day, m["item__theme"], "networks", "items")] += m["n"]
