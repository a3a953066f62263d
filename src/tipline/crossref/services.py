"""Cross-reference's writes: the values items carry, the links they make, networks.

Every lookup goes through an index — (kind, value) for shared values, a band key for
similar texts, the PDQ index for pictures — and each is bounded: a value carried by more
than CROSSREF_COMMON_AFTER items stops linking, a text bucket stops growing at
BUCKET_CAP texts. So the cost of cross-referencing an item does not grow with the database.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tipline.analyze.matching import SyncedPDQIndex
from tipline.analyze.models import Observable
from tipline.common.audit import audit_record
from tipline.common.bulk import chunked, insert_rows, select_in, update_rows
from tipline.harmonize.core import ItemKind, text_hash
from tipline.harmonize.media import PDQ_MATCH_THRESHOLD, PDQ_QUALITY_FLOOR
from tipline.harmonize.models import MediaFile, ReportItem
from tipline.intake.models import Report

from . import core
from .core import LinkKind
from .models import (
    AllowedValue,
    CommonValue,
    Link,
    Membership,
    Network,
    NetworkEvent,
    PictureNeighbour,
    PictureSeen,
    TextBand,
    TextPrint,
    Trace,
)

log = logging.getLogger(__name__)

BUCKET_CAP = 4  # texts kept per LSH bucket: a template reused by thousands stays cheap
NEAR_COPY_BANDS = 24  # of 32 bands equal: Jaccard about 0.92 or more
MAX_TEXT_CANDIDATES = 6  # texts compared with a new one: those sharing the most bands
MAX_TEXT_LINKS = 2  # the most similar of them linked (the rest are joined through them)
MAX_PICTURE_NEIGHBOURS = 50  # kept per picture
MAX_PICTURE_LINKS = 2  # similar pictures linked from a new carrier
TEXT_CHARS = 20_000  # of one ad text compared
LOCK_KEY = 0x7469706C  # "tipl": cross-reference runs one batch at a time


def _media_rows_after(last_id: int) -> list[tuple[int, str]]:
    return list(
        MediaFile.objects.filter(id__gt=last_id, pdq_quality__gte=PDQ_QUALITY_FLOOR)
        .exclude(pdq="")
        .order_by("id")[:200_000]
        .values_list("id", "pdq")
    )


def _media_rows_among(ids: Sequence[int]) -> tuple[set[int], list[tuple[int, str]]]:
    rows = list(MediaFile.objects.filter(id__in=ids).values_list("id", "pdq", "pdq_quality"))
    return {i for i, _, _ in rows}, [
        (i, pdq) for i, pdq, quality in rows if pdq and (quality or 0) >= PDQ_QUALITY_FLOOR
    ]


media_index = SyncedPDQIndex("media-pdq-index", _media_rows_after, _media_rows_among)


def _serialize() -> None:
    """Networks change one batch at a time. SQLite's IMMEDIATE transactions already write one
    at a time; PostgreSQL takes an advisory lock held until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


# --- What each item carries ---------------------------------------------------------------


@dataclass
class Carried:
    """What a batch's items carry: values and ad texts."""

    traces: dict[int, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    texts: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Items pointed at by one report: the report's values are attributed to all of them, so
    # they must not be linked by those values alone (the report already groups them).
    together: set[tuple[int, int]] = field(default_factory=set)

    def add(self, item_id: int, kind: str, value: str) -> None:
        value = core.normalized_value(kind, value)
        if value and len(value) <= core.MAX_VALUE_CHARS:
            self.traces[item_id].add((kind, value))


def carried_by_reports(report_ids: Sequence[int]) -> Carried:
    """Values and texts of the reports' items. A report's phones, e-mails, handles, wallets,
    domains and pictures go to its pages and texts; to its media items only when it has
    nothing else. So a picture reused by many reports does not join them all, and a page is
    not linked to the picture it shows in the same report (the report already says so)."""
    carried = Carried()
    rows = list(
        ReportItem.objects.filter(report_id__in=report_ids).values_list(
            "report_id", "item_id", "item__kind", "item__domain", "item__sha256", "item__text"
        )
    )
    by_report: dict[int, list[tuple[int, str, str, str, str]]] = defaultdict(list)
    for report_id, item_id, kind, domain, sha256, text in rows:
        by_report[report_id].append((item_id, kind, domain, sha256, text))
    excerpts = dict(
        Report.objects.filter(id__in=report_ids).exclude(excerpt="").values_list("id", "excerpt")
    )
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    # By report only: a filter on the type would let SQLite's planner pick the (type, value)
    # index and scan every observable of that type, a cost that grows with the database.
    observed = [
        row
        for row in select_in(
            Observable,
            ["report_id", "field", "type", "value", "start", "end"],
            "report",
            report_ids,
        )
        # The reported URLs themselves say where the items are, not what they mention.
        if row[2] in core.KIND_OF_OBSERVABLE and row[1] != "urls"
    ]
    # An e-mail address's domain is not a mention of a site: webmail hosts everyone.
    addresses: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for r, f, t, _, s, e in observed:
        if t == "email":
            addresses[(r, f)].append((s, e))
    inside = {
        (r, f, s, e)
        for r, f, t, _, s, e in observed
        if t == "domain" and any(s2 <= s and e <= e2 for s2, e2 in addresses.get((r, f), ()))
    }
    for report_id, field_, type_, value, start, end in observed:
        if (report_id, field_, start, end) not in inside:
            found[report_id].append((core.KIND_OF_OBSERVABLE[type_], value))
    for report_id, items in by_report.items():
        ids = sorted(i[0] for i in items)
        carried.together.update(combinations(ids, 2))
        pictures = [sha for _, kind, _, sha, _ in items if kind == ItemKind.MEDIA]
        others = [i for i in items if i[1] != ItemKind.MEDIA]
        for item_id, kind, domain, _sha, text in items:
            if kind == ItemKind.URL and domain:
                carried.add(item_id, core.HOSTED_ON, domain)
            if kind == ItemKind.TEXT and text:
                carried.texts[item_id].add(text)
            elif kind == ItemKind.URL and report_id in excerpts:
                carried.texts[item_id].add(excerpts[report_id])
        for item_id, *_ in others or items:
            for kind, value in found.get(report_id, ()):
                carried.add(item_id, kind, value)
            for sha in pictures:
                carried.add(item_id, LinkKind.SAME_IMAGE, sha)
    return carried


# --- The pipeline step --------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What the step needs that no stage changes once a report is analyzed: what its items
    carry, and each ad text's shingles and LSH band keys (the stage's costliest sums)."""

    report_ids: frozenset[int]
    carried: Carried
    bands: dict[str, tuple[frozenset[str], list[int]] | None]


def reports_crossref_prepare(report_ids: Sequence[int]) -> Prepared:
    """Run by the pipeline before the stage's transaction (`pipeline.Prepare`): reads the
    reports' own items and observables, written by earlier stages, and writes nothing."""
    carried = carried_by_reports(report_ids)
    texts = {t[:TEXT_CHARS] for item_texts in carried.texts.values() for t in item_texts}
    return Prepared(frozenset(report_ids), carried, {t: core.text_bands(t) for t in texts})


def reports_crossref(report_ids: Sequence[int], prepared: Prepared | None = None) -> None:
    """The crossref step of the pipeline, run inside the runner's transaction: record what
    the reports' items carry, link them to every item sharing it, update networks.

    With `prepared` made for exactly these reports, its reading and sums are used; for
    any other set (a worker took some of the reports meanwhile) they are made again.
    """
    if prepared is not None and prepared.report_ids == frozenset(report_ids):
        items_crossref(carried=prepared.carried, bands=prepared.bands)
    else:
        items_crossref(carried=carried_by_reports(report_ids))


@dataclass
class _Links:
    """Links to write: (a, b, kind, value) → evidence."""

    rows: dict[tuple[int, int, str, str], dict[str, Any]] = field(default_factory=dict)

    def add(self, a: int, b: int, kind: str, value: str, evidence: dict[str, Any]) -> None:
        if a == b:
            return
        if a > b:
            a, b = b, a
        self.rows.setdefault((a, b, kind, value), evidence)


def items_crossref(
    *,
    carried: Carried,
    bands: Mapping[str, tuple[frozenset[str], list[int]] | None] | None = None,
) -> None:
    """Correlate items with what they carry; call inside a transaction. `bands` holds texts'
    `core.text_bands` already computed (any text missing is computed here)."""
    _serialize()
    now = timezone.now()
    links = _Links()
    withdrawn: set[int] = set()
    new_traces = _traces_record(carried)
    withdrawn |= _link_shared_values(new_traces, links, carried.together, now)
    _link_similar_pictures(new_traces, links)
    _link_similar_texts(carried, links, bands or {})
    for key in [k for k in links.rows if (k[0], k[1]) in carried.together]:
        del links.rows[key]
    _links_write(links, now)
    if withdrawn:
        networks_resplit(network_ids=withdrawn, now=now)


def _traces_record(carried: Carried) -> dict[tuple[str, str], set[int]]:
    """Insert the traces not yet recorded; returns the new ones as (kind, value) → items."""
    item_ids = sorted(carried.traces)
    known = set(select_in(Trace, ["item_id", "kind", "value"], "item", item_ids))
    new_rows = sorted(
        (item_id, kind, value)
        for item_id, values in carried.traces.items()
        for kind, value in values
        if (item_id, kind, value) not in known
    )
    insert_rows(Trace, ["item_id", "kind", "value"], new_rows, ignore_conflicts=True)
    new: dict[tuple[str, str], set[int]] = defaultdict(set)
    for item_id, kind, value in new_rows:
        new[(kind, value)].add(item_id)
    return new


def _values_in(
    model: type[AllowedValue] | type[CommonValue], keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for kind, values in core.values_by_kind(keys).items():
        # Most values are neither allowed nor common: a cheap indexed probe finds which are.
        found = [v for (v,) in select_in(model, ["value"], "value", values, kind=kind)]
        for chunk in chunked(found):
            for row in model.objects.filter(kind=kind, value__in=chunk):
                out[(row.kind, row.value)] = row
    return out


def _carriers(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for kind, values in core.values_by_kind(keys).items():
        for value, item_id in select_in(Trace, ["value", "item_id"], "value", values, kind=kind):
            out[(kind, value)].append(item_id)
    return out


def _hub(kind: str, value: str) -> int | None:
    return (
        Trace.objects.filter(kind=kind, value=value)
        .order_by("item_id")
        .values_list("item_id", flat=True)
        .first()
    )


def _value_links(
    keys: Sequence[tuple[str, str]],
) -> dict[tuple[str, str], list[tuple[int, int, str]]]:
    """The links each value made: (item a, item b, state)."""
    out: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for kind, values in core.values_by_kind(keys).items():
        for value, a, b, state in select_in(
            Link, ["value", "item_a_id", "item_b_id", "state"], "value", values, kind=kind
        ):
            out[(kind, value)].append((a, b, state))
    return out


def _link_shared_values(
    new: dict[tuple[str, str], set[int]],
    links: _Links,
    together: set[tuple[int, int]],
    now: datetime,
) -> set[int]:
    """Join the carriers of each value the batch brought, unless the value is allowed or
    common; list values that just became common and withdraw their links. Returns the
    networks whose links were withdrawn."""
    # A page hosted on a domain counts as one of the domain's carriers.
    merged: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (kind, value), items in new.items():
        merged[(LinkKind.SHARED_DOMAIN.value if kind == core.HOSTED_ON else kind, value)] |= items
    new = merged
    allowed = _values_in(AllowedValue, new)
    common = _values_in(CommonValue, new)
    open_keys = sorted(k for k in new if k not in allowed and k not in common)
    carriers = _carriers(open_keys)
    domains = [v for k, v in open_keys if k == LinkKind.SHARED_DOMAIN]
    hosted = _carriers([(core.HOSTED_ON, v) for v in domains])
    mentions: dict[tuple[str, str], set[int]] = {}
    for value in domains:
        key = (LinkKind.SHARED_DOMAIN.value, value)
        mentions[key] = set(carriers.get(key, ()))
        carriers[key] = sorted(mentions[key] | set(hosted.get((core.HOSTED_ON, value), ())))
    limit = settings.CROSSREF_COMMON_AFTER
    withdrawn: set[int] = set()
    for key in sorted(common):
        if common[key].decision == CommonValue.Decision.RELEASED:
            # Released by an analyst: each new carrier is linked to the first carrier only.
            hub = _hub(*key)
            if hub is not None:
                for item_id in new[key]:
                    links.add(hub, item_id, key[0], key[1], {"value": key[1], "released": True})
    linking = [k for k in open_keys if len(carriers.get(k, ())) <= limit]
    made = _value_links(linking)

    def apart_for(key: tuple[str, str]) -> Callable[[int, int], bool]:
        named = mentions.get(key)

        def apart(a: int, b: int) -> bool:
            if named is not None and a not in named and b not in named:
                return True  # two pages on one site: the site is not a reason
            return (min(a, b), max(a, b)) in together

        return apart

    for key in open_keys:
        members = carriers.get(key, [])
        if len(members) > limit:
            withdrawn |= _value_list_common(kind=key[0], value=key[1], count=len(members), now=now)
            continue
        existing = made.get(key, [])
        for a, b in core.value_links(
            members,
            active=[(a, b) for a, b, state in existing if state == Link.State.ACTIVE],
            cut=[(a, b) for a, b, state in existing if state == Link.State.CUT],
            apart=apart_for(key),
        ):
            links.add(a, b, key[0], key[1], {"value": key[1]})
    return withdrawn


def _value_list_common(*, kind: str, value: str, count: int, now: datetime) -> set[int]:
    insert_rows(
        CommonValue,
        ["kind", "value", "item_count", "listed_at", "decision"],
        [(kind, value, count, now, "")],
        ignore_conflicts=True,
    )
    return _links_withdraw(
        Q(kind=kind, value=value), reason=f"{kind} {value} is common ({count} items)", now=now
    )


def _links_withdraw(where: Q, *, reason: str, now: datetime) -> set[int]:
    """Withdraw active links matching `where`; returns the networks of their items."""
    rows = list(
        Link.objects.filter(where, state=Link.State.ACTIVE).values_list(
            "id", "item_a_id", "item_b_id"
        )
    )
    if not rows:
        return set()
    for chunk in chunked([r[0] for r in rows]):
        Link.objects.filter(id__in=chunk).update(
            state=Link.State.WITHDRAWN, changed_at=now, reason=reason[:255]
        )
    items = sorted({r[1] for r in rows} | {r[2] for r in rows})
    networks: set[int] = set()
    for chunk in chunked(items):
        networks.update(
            Membership.objects.filter(item_id__in=chunk).values_list("network_id", flat=True)
        )
    return networks


# --- Pictures -----------------------------------------------------------------------------


def _link_similar_pictures(new: dict[tuple[str, str], set[int]], links: _Links) -> None:
    """Link the new carriers of a picture to the carriers of pictures within PDQ distance."""
    shas = sorted(v for (k, v) in new if k == LinkKind.SAME_IMAGE)
    if not shas:
        return
    media: dict[str, tuple[int, str]] = {}
    for sha_chunk in chunked(shas):
        for mid, sha, pdq in (
            MediaFile.objects.filter(sha256__in=sha_chunk, pdq_quality__gte=PDQ_QUALITY_FLOOR)
            .exclude(pdq="")
            .values_list("id", "sha256", "pdq")
        ):
            media[sha] = (mid, pdq)
    if not media:
        return
    ids = sorted(mid for mid, _ in media.values())
    seen: set[int] = set()
    for chunk in chunked(ids):
        seen.update(
            PictureSeen.objects.filter(media_id__in=chunk).values_list("media_id", flat=True)
        )
    unseen = [(mid, pdq) for mid, pdq in sorted(media.values()) if mid not in seen]
    if unseen:
        found = media_index.search_many([pdq for _, pdq in unseen], PDQ_MATCH_THRESHOLD)
        pairs = []
        for (mid, _), hits in zip(unseen, found, strict=True):
            near = sorted((d, other) for other, d in hits if other != mid)
            for d, other in near[:MAX_PICTURE_NEIGHBOURS]:
                pairs.append((min(mid, other), max(mid, other), d))
        insert_rows(
            PictureNeighbour, ["media_a_id", "media_b_id", "distance"], pairs, ignore_conflicts=True
        )
        insert_rows(PictureSeen, ["media_id"], [(mid,) for mid, _ in unseen], ignore_conflicts=True)
    neighbours: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in chunked(ids):
        for a, b, d in PictureNeighbour.objects.filter(
            Q(media_a_id__in=chunk) | Q(media_b_id__in=chunk)
        ).values_list("media_a_id", "media_b_id", "distance"):
            neighbours[a].append((b, d))
            neighbours[b].append((a, d))
    other_ids = sorted({o for mid in ids for o, _ in neighbours.get(mid, ())})
    sha_of: dict[int, str] = {mid: sha for sha, (mid, _) in media.items()}
    for chunk in chunked([o for o in other_ids if o not in sha_of]):
        sha_of.update(MediaFile.objects.filter(id__in=chunk).values_list("id", "sha256"))
    keys = {(LinkKind.SAME_IMAGE.value, sha_of[o]) for o in other_ids}
    common = _values_in(CommonValue, keys | {(LinkKind.SAME_IMAGE.value, s) for s in media})
    allowed = _values_in(AllowedValue, keys | {(LinkKind.SAME_IMAGE.value, s) for s in media})
    blocked = set(common) | set(allowed)
    carriers = _carriers(keys - blocked)
    for sha, (mid, _) in sorted(media.items()):
        if (LinkKind.SAME_IMAGE, sha) in blocked:
            continue
        for item_id in new[(LinkKind.SAME_IMAGE, sha)]:
            made = 0
            # The nearest pictures first; each one's carriers are joined through their first
            # carrier, so one link per picture is enough, and a few pictures are.
            for d, other in sorted((d, o) for o, d in neighbours.get(mid, ())):
                other_sha = sha_of[other]
                others = [
                    c for c in carriers.get((LinkKind.SAME_IMAGE, other_sha), ()) if c != item_id
                ]
                if not others or made >= MAX_PICTURE_LINKS:
                    continue
                pair = sorted((sha, other_sha))
                links.add(
                    item_id,
                    min(others),
                    LinkKind.SIMILAR_IMAGE,
                    f"{pair[0]}:{pair[1]}",
                    {"distance": d, "pictures": pair},
                )
                made += 1


# --- Texts --------------------------------------------------------------------------------


class _ShingleCache:
    """Shingles of recently compared texts (a template's first texts are compared again and
    again), so they are not read and split each time; bounded, oldest dropped first."""

    SIZE = 100_000

    def __init__(self) -> None:
        self.entries: dict[int, tuple[int, frozenset[str]]] = {}

    def items_for(self, ids: Iterable[int]) -> list[tuple[int, tuple[int, frozenset[str]]]]:
        return [(i, self.entries[i]) for i in ids if i in self.entries]

    def keep(self, texts: dict[int, tuple[int, frozenset[str]]]) -> None:
        self.entries.update(texts)
        if len(self.entries) > self.SIZE * 1.2:  # trimmed now and then, not every batch
            for key in list(self.entries)[: len(self.entries) - self.SIZE]:
                del self.entries[key]


_shingle_cache = _ShingleCache()


def _link_similar_texts(
    carried: Carried,
    links: _Links,
    known_bands: Mapping[str, tuple[frozenset[str], list[int]] | None],
) -> None:
    """Record the new ad texts with their LSH bands; link each to the texts it shares a band
    with whose exact Jaccard similarity reaches the threshold."""
    wanted: dict[tuple[int, str], str] = {}
    for item_id, item_texts in carried.texts.items():
        for text in item_texts:
            wanted[(item_id, text_hash(text))] = text[:TEXT_CHARS]
    if not wanted:
        return
    item_ids = sorted({i for i, _ in wanted})
    for done in select_in(TextPrint, ["item_id", "sha256"], "item", item_ids):
        wanted.pop(done, None)
    prepared = []
    for (item_id, sha), text in sorted(wanted.items()):
        bands = known_bands[text] if text in known_bands else core.text_bands(text)
        if bands is not None:
            prepared.append((item_id, sha, text, bands[0], bands[1]))
    if not prepared:
        return
    insert_rows(
        TextPrint,
        ["item_id", "sha256", "text"],
        [(i, sha, text) for i, sha, text, _, _ in prepared],
        ignore_conflicts=True,
    )
    print_id: dict[tuple[int, str], int] = {}
    for pid, item_id, sha in select_in(
        TextPrint, ["id", "item_id", "sha256"], "item", sorted({p[0] for p in prepared})
    ):
        print_id[(item_id, sha)] = pid
    all_keys = sorted({k for p in prepared for k in p[4]})
    bucket: dict[int, list[int]] = defaultdict(list)
    for key, text_id in select_in(TextBand, ["key", "text_id"], "key", all_keys):
        bucket[key].append(text_id)
    candidates: dict[int, list[int]] = {}
    band_rows = []
    for item_id, sha, _, _, keys in prepared:
        pid = print_id[(item_id, sha)]
        hits: Counter[int] = Counter()
        for key in keys:
            hits.update(bucket[key])
        hits.pop(pid, None)
        best = hits.most_common(1)
        # A near copy of a kept text (most bands equal) is found through it: its own bands
        # are not kept, so a template reused thousands of times does not grow the index.
        if not best or best[0][1] < NEAR_COPY_BANDS:
            for key in keys:
                if len(bucket[key]) < BUCKET_CAP:
                    bucket[key].append(pid)  # later texts of this batch find it too
                    band_rows.append((key, pid))
        # The texts sharing the most bands are the most similar: only those are compared.
        candidates[pid] = [other for other, _ in hits.most_common(MAX_TEXT_CANDIDATES)]
    insert_rows(TextBand, ["key", "text_id"], band_rows)
    others = sorted({c for cs in candidates.values() for c in cs})
    texts: dict[int, tuple[int, frozenset[str]]] = {}
    mine = {print_id[(p[0], p[1])]: (p[0], p[3]) for p in prepared}
    for pid, known in _shingle_cache.items_for(others):
        texts[pid] = known
    missing = [o for o in others if o not in mine and o not in texts]
    for pid, item_id, text in select_in(TextPrint, ["id", "item_id", "text"], "id", missing):
        texts[pid] = (item_id, core.text_shingles(text))
    texts.update(mine)
    # Kept once committed: a rolled-back batch's text ids may be given to other texts.
    transaction.on_commit(lambda: _shingle_cache.keep(texts))
    threshold = settings.CROSSREF_TEXT_THRESHOLD
    for pid, cands in sorted(candidates.items()):
        item_id, shingles = texts[pid]
        scored = []
        for other in cands:
            other_item, other_shingles = texts[other]
            if other_item == item_id:
                continue
            similarity = core.jaccard(shingles, other_shingles)
            if similarity >= threshold:
                scored.append((-similarity, other, other_item))
        for neg, other, other_item in sorted(scored)[:MAX_TEXT_LINKS]:
            lo, hi = sorted((pid, other))
            links.add(
                item_id,
                other_item,
                LinkKind.SIMILAR_TEXT,
                f"{lo}:{hi}",
                {"similarity": round(-neg, 3), "texts": [lo, hi]},
            )


# --- Links and networks -------------------------------------------------------------------


def _links_write(links: _Links, now: datetime) -> None:
    if not links.rows:
        return
    rows = sorted(links.rows)
    insert_rows(
        Link,
        ["item_a_id", "item_b_id", "kind", "value", "evidence", "state", "created_at", "reason"],
        [(a, b, k, v, links.rows[(a, b, k, v)], Link.State.ACTIVE, now, "") for a, b, k, v in rows],
        ignore_conflicts=True,
    )
    # A link cut or withdrawn before keeps its state: it does not join networks again.
    blocked: set[tuple[int, int, str, str]] = set()
    for chunk in chunked(sorted({r[0] for r in rows})):
        blocked.update(
            Link.objects.filter(item_a_id__in=chunk)
            .exclude(state=Link.State.ACTIVE)
            .values_list("item_a_id", "item_b_id", "kind", "value")
        )
    networks_join(pairs=[r for r in rows if r not in blocked], now=now)


def _link_ids(keys: Iterable[tuple[int, int, str, str]]) -> dict[tuple[int, int, str, str], int]:
    """The ids of links given by (item_a, item_b, kind, value), in one lookup per 900."""
    wanted = set(keys)
    found = select_in(
        Link, ["item_a", "item_b", "kind", "value", "id"], "item_a", sorted({k[0] for k in wanted})
    )
    return {row[:4]: row[4] for row in found if row[:4] in wanted}


def networks_join(*, pairs: Sequence[tuple[int, int, str, str]], now: datetime) -> None:
    """Join the networks of linked items: a network absorbs the ones a link connects it to
    (the largest keeps its id), items without one join it, and items linked only among
    themselves make a new network. Each merge is recorded with the link that caused it."""
    if not pairs:
        return
    items = sorted({p[0] for p in pairs} | {p[1] for p in pairs})
    member: dict[int, int] = dict(select_in(Membership, ["item_id", "network_id"], "item", items))
    sizes = dict(
        Network.objects.filter(id__in=set(member.values())).values_list("id", "item_count")
    )

    def node(item: int) -> tuple[str, int]:
        return ("n", member[item]) if item in member else ("i", item)

    sets = core.DisjointSets()
    cause: dict[int, tuple[int, int, str, str]] = {}  # network → link that first joined it
    first_link: dict[Any, tuple[int, tuple[int, int, str, str]]] = {}  # root → (order, link)
    nets_of: dict[Any, set[int]] = {}
    for item in items:
        start = node(item)
        nets_of.setdefault(sets.find(start), {start[1]} if start[0] == "n" else set())
    for pos, key in enumerate(pairs):
        ra, rb = sets.find(node(key[0])), sets.find(node(key[1]))
        if ra == rb:
            continue
        na, nb = nets_of.pop(ra), nets_of.pop(rb)
        if na and nb:
            for net in na | nb:
                cause.setdefault(net, key)
        fa, fb = first_link.pop(ra, (pos, key)), first_link.pop(rb, (pos, key))
        sets.union(ra, rb)
        root = sets.find(ra)
        nets_of[root] = na | nb
        first_link[root] = min(fa, fb)
    groups: dict[Any, list[int]] = defaultdict(list)
    for item in items:
        groups[sets.find(node(item))].append(item)
    created: list[tuple[Network, list[int], tuple[int, int, str, str]]] = []
    memberships: list[tuple[int, int]] = []
    counted: list[tuple[int, datetime, int]] = []  # (item_count, updated_at, network)
    # (network, kind, other, link that caused it, detail): written at the end, with the
    # links' ids looked up together.
    events: list[tuple[int, str, int | None, tuple[int, int, str, str] | None, dict[str, int]]] = []
    for root, group in groups.items():
        nets = nets_of.get(root, set())
        free = sorted(i for i in group if i not in member)
        if not nets:
            if len(free) >= 2:
                created.append(
                    (
                        Network(created_at=now, updated_at=now, item_count=len(free)),
                        free,
                        first_link[root][1],
                    )
                )
            continue
        target = max(nets, key=lambda n: (sizes.get(n, 0), -n))
        absorbed = sorted(nets - {target})
        count = sizes.get(target, 0) + sum(sizes.get(n, 0) for n in absorbed) + len(free)
        for n in absorbed:
            Membership.objects.filter(network_id=n).update(network_id=target)
            Network.objects.filter(id=n).update(merged_into_id=target, item_count=0, updated_at=now)
            Network.objects.filter(merged_into_id=n).update(merged_into_id=target)
            events.append(
                (
                    target,
                    NetworkEvent.Kind.MERGED,
                    n,
                    cause.get(n),
                    {"absorbed_items": sizes.get(n, 0)},
                )
            )
        counted.append((count, now, target))
        memberships.extend((i, target) for i in free)
    if created:
        Network.objects.bulk_create([c[0] for c in created])
        for network, free, link in created:
            memberships.extend((i, network.pk) for i in free)
            events.append((network.pk, NetworkEvent.Kind.CREATED, None, link, {"items": len(free)}))
    update_rows(Network, ["item_count", "updated_at"], counted)
    insert_rows(Membership, ["item_id", "network_id"], memberships)
    link_ids = _link_ids(e[3] for e in events if e[3] is not None)
    insert_rows(
        NetworkEvent,
        ["network_id", "kind", "other_id", "link_id", "detail", "at"],
        [
            (net, kind, other, link_ids.get(link) if link else None, detail, now)
            for net, kind, other, link, detail in events
        ],
    )


def networks_resplit(
    *, network_ids: Iterable[int], now: datetime, link_id: int | None = None
) -> list[int]:
    """Recompute networks from their active links after links were withdrawn or cut: the
    largest part keeps the network, other parts of two or more items become new networks,
    lone items leave. Returns the ids of the networks created."""
    created_ids: list[int] = []
    for network_id in sorted(set(network_ids)):
        members = list(
            Membership.objects.filter(network_id=network_id).values_list("item_id", flat=True)
        )
        inside = set(members)
        edges: list[tuple[int, int]] = []
        for chunk in chunked(sorted(members)):
            edges.extend(
                (a, b)
                for a, b in Link.objects.filter(
                    item_a_id__in=chunk, state=Link.State.ACTIVE
                ).values_list("item_a_id", "item_b_id")
                if b in inside
            )
        parts = core.components(members, edges)
        keep = parts[0] if parts and len(parts[0]) >= 2 else []
        leaving = [i for part in parts for i in part if len(part) < 2]
        for chunk in chunked(leaving):
            Membership.objects.filter(item_id__in=chunk).delete()
        Network.objects.filter(id=network_id).update(item_count=len(keep), updated_at=now)
        for part in parts[1:]:
            if len(part) < 2:
                continue
            new = Network.objects.create(created_at=now, updated_at=now, item_count=len(part))
            created_ids.append(new.pk)
            for chunk in chunked(part):
                Membership.objects.filter(item_id__in=chunk).update(network_id=new.pk)
            detail = {"items": len(part), "remaining": len(keep)}
            NetworkEvent.objects.create(
                network_id=network_id,
                kind=NetworkEvent.Kind.SPLIT,
                other_id=new.pk,
                link_id=link_id,
                detail=detail,
                at=now,
            )
            NetworkEvent.objects.create(
                network_id=new.pk,
                kind=NetworkEvent.Kind.CREATED,
                other_id=network_id,
                link_id=link_id,
                detail={**detail, "split_from": network_id},
                at=now,
            )
        if not keep and len(members) >= 2:
            NetworkEvent.objects.create(
                network_id=network_id,
                kind=NetworkEvent.Kind.SPLIT,
                link_id=link_id,
                detail={"items": 0, "dissolved": True},
                at=now,
            )
    return created_ids


# --- Analysts' decisions ------------------------------------------------------------------


class CrossrefError(ValueError):
    """A request cross-reference refuses, with a message for the person who made it."""


class NotFound(CrossrefError):
    pass


@transaction.atomic
def link_cut(*, link_id: int, by: AbstractBaseUser | None, reason: str) -> Link:
    """An analyst says a link is wrong: it is cut for good (never re-created), and its
    network splits if nothing else joins the two sides."""
    _serialize()
    link = Link.objects.select_for_update().filter(id=link_id).first()
    if link is None:
        raise NotFound(f"there is no link {link_id}")
    if not reason.strip():
        raise CrossrefError("say why the link is wrong: the reason is kept with the cut")
    if link.state == Link.State.CUT:
        return link
    now = timezone.now()
    was_active = link.state == Link.State.ACTIVE
    link.state = Link.State.CUT
    link.changed_at = now
    link.changed_by = by  # type: ignore[assignment]
    link.reason = reason.strip()[:255]
    link.save(update_fields=["state", "changed_at", "changed_by", "reason"])
    audit_record(
        actor=by, action="link.cut", target=f"link:{link.pk}", detail={"reason": link.reason}
    )
    if was_active:
        network = (
            Membership.objects.filter(item_id=link.item_a_id)
            .values_list("network_id", flat=True)
            .first()
        )
        if network is not None:
            networks_resplit(network_ids=[network], now=now, link_id=link.pk)
    return link


@transaction.atomic
def common_value_decide(
    *, kind: str, value: str, decision: str, by: AbstractBaseUser | None
) -> CommonValue:
    """Confirm a common value as noise (it never links), or release it: it links again,
    each carrier to the first one, so even a value on 100,000 items costs one link each."""
    _serialize()
    if decision not in (CommonValue.Decision.CONFIRMED, CommonValue.Decision.RELEASED):
        raise CrossrefError("decision must be 'confirmed' or 'released'")
    row = CommonValue.objects.select_for_update().filter(kind=kind, value=value).first()
    if row is None:
        raise NotFound(f"{kind} {value!r} is not listed as common")
    now = timezone.now()
    row.decision = decision
    row.decided_by = by  # type: ignore[assignment]
    row.decided_at = now
    row.save(update_fields=["decision", "decided_by", "decided_at"])
    audit_record(
        actor=by,
        action="common_value.decide",
        target=f"{kind}:{value}"[:120],
        detail={"decision": decision},
    )
    if decision == CommonValue.Decision.RELEASED:
        _value_relink(kind=kind, value=value, now=now)
    return row


def _value_relink(*, kind: str, value: str, now: datetime) -> None:
    hub = _hub(kind, value)
    if hub is None:
        return
    links = _Links()
    for item_id in (
        Trace.objects.filter(kind=kind, value=value).values_list("item_id", flat=True).iterator()
    ):
        links.add(hub, item_id, kind, value, {"value": value, "released": True})
    _links_write(links, now)


@transaction.atomic
def allowed_value_add(*, kind: str, value: str, note: str = "") -> AllowedValue:
    """Never link through this value again; links it made are withdrawn."""
    _serialize()
    if kind not in core.VALUE_KINDS:
        raise CrossrefError(f"unknown kind {kind!r}")
    value = core.normalized_value(kind, value)
    if not value:
        raise CrossrefError("the value is empty")
    row, _ = AllowedValue.objects.get_or_create(kind=kind, value=value, defaults={"note": note})
    now = timezone.now()
    networks = _links_withdraw(
        Q(kind=kind, value=value), reason=f"{kind} {value} is allowed", now=now
    )
    if networks:
        networks_resplit(network_ids=networks, now=now)
    return row


@transaction.atomic
def allowed_value_remove(*, allowed_id: int) -> None:
    """Items sharing the value link again (or it is listed common if too many carry it)."""
    _serialize()
    row = AllowedValue.objects.filter(id=allowed_id).first()
    if row is None:
        return
    row.delete()
    now = timezone.now()
    kind, value = row.kind, row.value
    if CommonValue.objects.filter(kind=kind, value=value).exists():
        return  # listed common before it was allowed: it stays so until an analyst decides
    kinds = [kind, core.HOSTED_ON] if kind == LinkKind.SHARED_DOMAIN else [kind]
    limit = settings.CROSSREF_COMMON_AFTER
    rows = Trace.objects.filter(kind__in=kinds, value=value)
    found = list(rows.values_list("item_id", "kind")[: limit * len(kinds) + 1])
    carriers = sorted({item for item, _ in found})
    named = {item for item, k in found if k == kind}
    if len(carriers) > limit:
        count = rows.values("item_id").distinct().count()
        _value_list_common(kind=kind, value=value, count=count, now=now)
        return
    again = Link.objects.filter(kind=kind, value=value, state=Link.State.WITHDRAWN)
    back = list(again.values_list("item_a_id", "item_b_id", "kind", "value"))
    again.update(state=Link.State.ACTIVE, changed_at=now, reason="")
    networks_join(pairs=back, now=now)
    existing = _value_links([(kind, value)]).get((kind, value), [])
    links = _Links()
    for a, b in core.value_links(
        carriers,
        active=[(a, b) for a, b, state in existing if state == Link.State.ACTIVE],
        cut=[(a, b) for a, b, state in existing if state == Link.State.CUT],
        apart=lambda a, b: kind == LinkKind.SHARED_DOMAIN and a not in named and b not in named,
    ):
        links.add(a, b, kind, value, {"value": value})
    _links_write(links, now)
