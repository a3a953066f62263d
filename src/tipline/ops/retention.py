"""Retention: reporters' personal data erased, and evidence files deleted, a set time after
the case is closed. `plan` decides (pure, with the reasons); `retention_apply` does it and
writes what it did to the audit log. Run daily by the workers and by `tipline retention`.

When an item is closed, precisely: nobody has anything left to do about it —
- no analyst is waiting to assess it (it is assessed, or its routing closed it: known
  content, not illegal, duplicate),
- its routing does not hold it for a senior analyst,
- none of its messages is still to go (proposed or pending in the outbox),
- no takedown of it is open (its page was noticed and is still online).
It closed at the latest of: its last report, its assessment, its routing decision, its
messages being sent, acknowledged or closed, and its page's removal. A new report, a new
decision or a new message moves that time on (or reopens the item).

A report's reporter data goes `RETENTION_REPORTER_DAYS` after the report is closed: the
pipeline is done with it (oriented, or failed for good) and every item it points at is
closed; closed at the latest of those. The report stays, without name, e-mail or phone.

An evidence file goes when every item that uses it (the items of the reports that brought
it, the media item of that content, the item whose capture it is) is closed and past its
own theme's retention. A file that a report without items still holds (not yet through
the pipeline) stays.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from tipline.analyze.models import Capture
from tipline.common import pipeline
from tipline.common.audit import audit_record
from tipline.common.bulk import chunked
from tipline.common.evidence import EvidenceStore, default_store
from tipline.harmonize.models import Item, MediaFile, ReportItem
from tipline.intake.models import Report, ReportMedia
from tipline.orient.models import Dispatch, DispatchState, Routing, Takedown, TakedownState

log = logging.getLogger(__name__)

ACTOR = "retention"
# Reports and files named one by one in the audit record, up to this many (then counts).
AUDIT_LIST_MAX = 200
CHUNK = 500
LIVE_MESSAGES = (DispatchState.PROPOSED, DispatchState.PENDING)


# --- Deciding (no database) -----------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    reporter_days: int
    evidence_days: Mapping[str, int | None]  # theme (or "default") -> days; None: kept

    def days_for(self, theme: str) -> int | None:
        return self.evidence_days.get(theme, self.evidence_days.get("default"))

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(settings.RETENTION_REPORTER_DAYS, dict(settings.RETENTION_EVIDENCE_DAYS))


@dataclass(frozen=True)
class ItemState:
    """What closure depends on, for one item."""

    id: int
    theme: str
    waiting_assessment: bool
    closed_by_routing: bool  # its current routing closes it (known, not illegal, duplicate)
    routed: bool  # it has a current routing at all
    held: bool
    live_messages: bool
    takedown_open: bool
    moments: tuple[datetime | None, ...]  # last report, assessment, decision, messages, removal

    @property
    def closed_at(self) -> datetime | None:
        """When nothing was left to do about it; None while something is."""
        if not self.routed or self.held or self.live_messages or self.takedown_open:
            return None
        if self.waiting_assessment and not self.closed_by_routing:
            return None
        return max(m for m in self.moments if m is not None)


@dataclass(frozen=True)
class ReportState:
    id: int
    finished_at: datetime | None  # when the pipeline was done with it; None: not yet
    item_ids: tuple[int, ...]


@dataclass(frozen=True)
class Going:
    """One thing retention removes, and why (no personal data in the reason)."""

    target: str  # "report:12" or a file's SHA-256
    reason: str


@dataclass
class Plan:
    reports: list[Going] = field(default_factory=list)
    files: list[Going] = field(default_factory=list)

    @property
    def report_ids(self) -> list[int]:
        return [int(g.target.removeprefix("report:")) for g in self.reports]

    @property
    def file_shas(self) -> list[str]:
        return [g.target for g in self.files]


def report_closed_at(report: ReportState, items: Mapping[int, ItemState]) -> datetime | None:
    if report.finished_at is None:
        return None
    moments = [report.finished_at]
    for item_id in report.item_ids:
        state = items.get(item_id)
        closed = state.closed_at if state is not None else None
        if closed is None:
            return None
        moments.append(closed)
    return max(moments)


def reports_due(
    reports: Iterable[ReportState],
    items: Mapping[int, ItemState],
    *,
    policy: Policy,
    now: datetime,
) -> list[Going]:
    """Reports whose reporter data is past retention: closed more than the days ago."""
    keep = timedelta(days=policy.reporter_days)
    out = []
    for report in reports:
        closed = report_closed_at(report, items)
        if closed is not None and closed + keep <= now:
            out.append(
                Going(
                    f"report:{report.id}",
                    f"closed {closed:%Y-%m-%d}, more than {policy.reporter_days} days ago",
                )
            )
    return out


def item_evidence_expires(state: ItemState, policy: Policy) -> datetime | None:
    """When this item stops needing its evidence; None: not while it is open, or never."""
    closed, days = state.closed_at, policy.days_for(state.theme)
    if closed is None or days is None:
        return None
    return closed + timedelta(days=days)


def files_due(
    users: Mapping[str, Sequence[int]],
    items: Mapping[int, ItemState],
    *,
    held: Iterable[str],
    policy: Policy,
    now: datetime,
) -> list[Going]:
    """Files every user of which is past its theme's retention. `users` maps a file to
    the items using it; `held` are files that something else still needs."""
    held = set(held)
    out = []
    for sha, item_ids in sorted(users.items()):
        if sha in held or not item_ids:
            continue
        expiries = [
            item_evidence_expires(items[i], policy) if i in items else None for i in item_ids
        ]
        if all(e is not None and e <= now for e in expiries):
            themes = sorted({items[i].theme for i in item_ids})
            out.append(
                Going(
                    sha,
                    f"items {', '.join(map(str, sorted(item_ids)))} ({', '.join(themes)}) "
                    "closed and past their retention",
                )
            )
    return out


# --- Reading what the decision needs -----------------------------------------------------------


def item_states(item_ids: Iterable[int]) -> dict[int, ItemState]:
    """Closure facts of these items, in a few queries per chunk."""
    out: dict[int, ItemState] = {}
    for part in chunked(sorted(set(item_ids)), CHUNK):
        items = Item.objects.filter(id__in=part).values_list(
            "id", "theme", "needs_assessment", "assessed_at", "last_reported_at"
        )
        routings = {
            r[0]: r[1:]
            for r in Routing.objects.filter(item_id__in=part, is_current=True).values_list(
                "item_id", "close_as", "hold", "decided_at"
            )
        }
        live = set(
            Dispatch.objects.filter(item_id__in=part, state__in=LIVE_MESSAGES).values_list(
                "item_id", flat=True
            )
        )
        messages = {
            row["item_id"]: (row["sent"], row["acknowledged"], row["closed"])
            for row in Dispatch.objects.filter(item_id__in=part)
            .values("item_id")
            .annotate(
                sent=Max("sent_at"), acknowledged=Max("acknowledged_at"), closed=Max("closed_at")
            )
        }
        takedowns = {
            t[0]: t[1:]
            for t in Takedown.objects.filter(item_id__in=part).values_list(
                "item_id", "state", "removed_at"
            )
        }
        for item_id, theme, waiting, assessed_at, last_reported_at in items:
            routing = routings.get(item_id)
            message = messages.get(item_id, (None, None, None))
            takedown = takedowns.get(item_id)
            out[item_id] = ItemState(
                id=item_id,
                theme=theme,
                waiting_assessment=waiting,
                closed_by_routing=bool(routing and routing[0]),
                routed=routing is not None,
                held=bool(routing and routing[1]),
                live_messages=item_id in live,
                takedown_open=bool(takedown and takedown[0] == TakedownState.OPEN),
                moments=(
                    last_reported_at,
                    assessed_at,
                    routing[2] if routing else None,
                    *message,
                    takedown[1] if takedown else None,
                ),
            )
    return out


def _items_of_reports(report_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for part in chunked(sorted(set(report_ids)), CHUNK):
        for report_id, item_id in ReportItem.objects.filter(report_id__in=part).values_list(
            "report_id", "item_id"
        ):
            out[report_id].append(item_id)
    return out


def _reports_with_contacts(*, finished_before: datetime) -> Iterator[list[ReportState]]:
    """Reports still holding reporter data that the pipeline was done with before the
    cutoff (closure is never earlier), in chunks."""
    has_contact = ~Q(reporter_name="") | ~Q(reporter_email="") | ~Q(reporter_phone="")
    after = 0
    while True:
        rows = list(
            Report.objects.filter(has_contact, id__gt=after)
            .filter(state__in=pipeline.TERMINAL_STATES, state_changed_at__lte=finished_before)
            .order_by("id")
            .values_list("id", "state_changed_at")[:CHUNK]
        )
        if not rows:
            return
        after = rows[-1][0]
        links = _items_of_reports([r[0] for r in rows])
        yield [ReportState(rid, finished, tuple(links.get(rid, ()))) for rid, finished in rows]


def _closed_item_ids(*, closed_before: datetime) -> Iterator[list[int]]:
    """Items that may be past retention (their last report is older than the cutoff), in
    chunks; a full pass over the items by primary key, once a day."""
    after = 0
    while True:
        ids = list(
            Item.objects.filter(id__gt=after, last_reported_at__lte=closed_before)
            .order_by("id")
            .values_list("id", flat=True)[:CHUNK]
        )
        if not ids:
            return
        after = ids[-1]
        yield ids


def _file_users(item_ids: Sequence[int]) -> tuple[dict[str, set[int]], set[str]]:
    """The evidence files these items use, each with every item using it, and the files
    some report without items still holds."""
    users: dict[str, set[int]] = defaultdict(set)
    reports_of: dict[int, set[int]] = defaultdict(set)
    for report_id, item_id in ReportItem.objects.filter(item_id__in=item_ids).values_list(
        "report_id", "item_id"
    ):
        reports_of[report_id].add(item_id)
    uploads = set(
        ReportMedia.objects.filter(report_id__in=list(reports_of)).values_list("sha256", flat=True)
    )
    media_items = dict(
        Item.objects.filter(id__in=item_ids, kind="media").values_list("id", "sha256")
    )
    contents = uploads | set(media_items.values())
    for item_id, body in (
        Capture.objects.filter(item_id__in=item_ids)
        .exclude(body_sha256="")
        .values_list("item_id", "body_sha256")
    ):
        users[body].add(item_id)
        contents.add(body)  # an image a capture brought is fingerprinted like an upload
    held: set[str] = set()
    # Every user of each content, not only the items asked about.
    for part in chunked(sorted(contents), CHUNK):
        senders = defaultdict(set)
        for report_id, sha in ReportMedia.objects.filter(sha256__in=part).values_list(
            "report_id", "sha256"
        ):
            senders[report_id].add(sha)
        linked = _items_of_reports(list(senders))
        for report_id, shas in senders.items():
            for sha in shas:
                if not linked.get(report_id):
                    held.add(sha)  # a report not through the pipeline yet
                users[sha].update(linked.get(report_id, ()))
        for item_id, sha in Item.objects.filter(sha256__in=part, kind="media").values_list(
            "id", "sha256"
        ):
            users[sha].add(item_id)
        for item_id, sha in Capture.objects.filter(body_sha256__in=part).values_list(
            "item_id", "body_sha256"
        ):
            users[sha].add(item_id)
        # A thumbnail serves every content that has it (identical thumbnails are shared).
        for sha, thumb in (
            MediaFile.objects.filter(sha256__in=part)
            .exclude(thumbnail_sha256="")
            .values_list("sha256", "thumbnail_sha256")
        ):
            users[thumb].update(users[sha])
            if sha in held:
                held.add(thumb)
    thumbs = [t for t in users if t not in contents]
    for part in chunked(sorted(thumbs), CHUNK):
        for sha, thumb in MediaFile.objects.filter(thumbnail_sha256__in=part).values_list(
            "sha256", "thumbnail_sha256"
        ):
            if sha not in contents:
                held.add(thumb)  # also the thumbnail of content not looked at here
    return users, held


def plan(*, now: datetime, policy: Policy, store: EvidenceStore | None = None) -> Plan:
    """What retention would remove now, and why. Changes nothing."""
    store = store or default_store()
    out = Plan()
    reporter_cutoff = now - timedelta(days=policy.reporter_days)
    for reports in _reports_with_contacts(finished_before=reporter_cutoff):
        items = item_states(i for r in reports for i in r.item_ids)
        out.reports += reports_due(reports, items, policy=policy, now=now)
    kept = [d for d in policy.evidence_days.values() if d is not None]
    if not kept:
        return out
    evidence_cutoff = now - timedelta(days=min(kept))
    seen: set[str] = set()
    for ids in _closed_item_ids(closed_before=evidence_cutoff):
        states = item_states(ids)
        expired = [
            i
            for i, s in states.items()
            if (e := item_evidence_expires(s, policy)) is not None and e <= now
        ]
        if not expired:
            continue
        users, held = _file_users(expired)
        users = {sha: u for sha, u in users.items() if sha not in seen}
        seen.update(users)
        others = item_states(i for u in users.values() for i in u if i not in states)
        going = files_due(
            {sha: sorted(u) for sha, u in users.items()},
            {**states, **others},
            held=held,
            policy=policy,
            now=now,
        )
        out.files += [g for g in going if store.exists(g.target)]
    return out


# --- Doing it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    reports_anonymized: int
    files_deleted: int
    plan: Plan

    def as_detail(self, policy: Policy) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "reports_anonymized": self.reports_anonymized,
            "files_deleted": self.files_deleted,
            "reporter_days": policy.reporter_days,
            "evidence_days": dict(policy.evidence_days),
        }
        if len(self.plan.reports) <= AUDIT_LIST_MAX:
            detail["report_ids"] = self.plan.report_ids
        if len(self.plan.files) <= AUDIT_LIST_MAX:
            detail["files"] = self.plan.file_shas
        return detail


def retention_apply(
    *, now: datetime | None = None, policy: Policy | None = None, store: EvidenceStore | None = None
) -> Outcome:
    """Erase reporter data and delete evidence files past retention; one audit record
    when anything was done. Idempotent: what is gone is not planned again."""
    now = now or timezone.now()
    policy = policy or Policy.from_settings()
    store = store or default_store()
    todo = plan(now=now, policy=policy, store=store)
    anonymized = 0
    for ids in chunked(todo.report_ids, CHUNK):
        with transaction.atomic():
            # An update, not save(): a report is otherwise an immutable record.
            anonymized += Report.objects.filter(id__in=ids).update(
                reporter_name="", reporter_email="", reporter_phone=""
            )
    deleted = sum(store.delete(sha) for sha in todo.file_shas)
    outcome = Outcome(anonymized, deleted, todo)
    if anonymized or deleted:
        audit_record(actor=ACTOR, action="retention.applied", detail=outcome.as_detail(policy))
    log.info(
        "retention: %s reporter(s) anonymized, %s evidence file(s) deleted", anonymized, deleted
    )
    return outcome
