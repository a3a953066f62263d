"""The audit log: append a record to the hash chain, check the chain.

Each record's hash is the SHA-256 of the previous record's hash and its own content in a
canonical JSON form, so changing, inserting or deleting any row breaks every hash after
it; `verify` names the first row that does not hold. Records are appended one at a time
under the database's write lock (SQLite) or an advisory lock (PostgreSQL), so two
writers never chain onto the same predecessor."""

from __future__ import annotations

import csv
import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditRecord

GENESIS = "0" * 64
_LOCK_KEY = 0x7469706C61756474  # "tipl" "audt": one advisory lock for the chain


def record_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, Any],
) -> str:
    """The hash of a record: its predecessor's hash and its content, canonically."""
    content = json.dumps(
        [prev_hash, seq, at.isoformat(), actor, action, target, detail],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def audit_record(
    *, actor: Any, action: str, target: str = "", detail: Mapping[str, Any] | None = None
) -> AuditRecord:
    """Append one record. `actor` is a user (its username is kept) or a name."""
    name = getattr(actor, "get_username", None)
    actor_name = (name() if callable(name) else str(actor or "system"))[:150] or "system"
    # JSON round trip: what is hashed is exactly what the database gives back.
    clean = json.loads(json.dumps(dict(detail or {}), default=str))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        last = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        # Microseconds dropped: every database gives the same time back.
        at = timezone.now().replace(microsecond=0)
        row = AuditRecord(
            seq=seq,
            at=at,
            actor=actor_name,
            action=action[:64],
            target=target[:120],
            detail=clean,
            prev_hash=prev,
        )
        row.hash = record_hash(
            prev_hash=prev,
            seq=seq,
            at=at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=clean,
        )
        row.save()
    return row


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


def verify(records: Iterable[AuditRecord]) -> tuple[int, Broken | None]:
    """Walk the chain in order; return how many records held and the first broken one."""
    prev, expected_seq, checked = GENESIS, 1, 0
    for r in records:
        if r.seq != expected_seq:
            return checked, Broken(r.seq, f"expected record #{expected_seq} here (a gap)")
        if r.prev_hash != prev:
            return checked, Broken(r.seq, "does not point at the previous record's hash")
        again = record_hash(
            prev_hash=r.prev_hash,
            seq=r.seq,
            at=r.at,
            actor=r.actor,
            action=r.action,
            target=r.target,
            detail=r.detail,
        )
        if again != r.hash:
            return checked, Broken(r.seq, "its content does not match its hash (changed)")
        prev, expected_seq, checked = r.hash, expected_seq + 1, checked + 1
    return checked, None


def audit_verify() -> tuple[int, Broken | None]:
    return verify(AuditRecord.objects.order_by("seq").iterator(chunk_size=2000))


# --- Searching and exporting: supervisors, in the console and with `tipline audit export` ---


@dataclass(frozen=True)
class AuditFilter:
    """Which records a supervisor asks for. Actor, action, target and the days filter
    indexed columns; `text` reads the detail of every record the others leave."""

    actor: str = ""
    # Exact, or every action starting with it when it ends with "." or "*" ("media.").
    action: str = ""
    target: str = ""
    since: date | None = None  # from the start of this UTC day
    until: date | None = None  # to the end of this UTC day
    text: str = ""  # anywhere in the detail, any case

    def is_empty(self) -> bool:
        return self == AuditFilter()

    def as_detail(self) -> dict[str, str]:
        """What was asked, for the record of the search itself."""
        return {name: str(value) for name, value in asdict(self).items() if value}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_records(wanted: AuditFilter) -> QuerySet[AuditRecord]:
    """The records matching `wanted`, unordered."""
    rows = AuditRecord.objects.all()
    if wanted.actor:
        rows = rows.filter(actor=wanted.actor)
    if wanted.action.endswith((".", "*")):
        rows = rows.filter(action__startswith=wanted.action.removesuffix("*"))
    elif wanted.action:
        rows = rows.filter(action=wanted.action)
    if wanted.target:
        rows = rows.filter(target=wanted.target)
    # Days as bounds on the instant, not `at__date`: a function of the column skips its index.
    if wanted.since:
        rows = rows.filter(at__gte=_day_start(wanted.since))
    if wanted.until and wanted.until < date.max:
        rows = rows.filter(at__lt=_day_start(wanted.until + timedelta(days=1)))
    if wanted.text:
        # Matched in the detail's JSON text: quotes there are escaped, and SQLite keeps
        # letters beyond ASCII as \u escapes.
        forms = {json.dumps(wanted.text, ensure_ascii=only)[1:-1] for only in (False, True)}
        rows = rows.filter(reduce(operator.or_, (Q(detail__icontains=f) for f in forms)))
    return rows


@dataclass(frozen=True)
class AuditPage:
    """Records newest first, with the cursors of the pages around them (None: no page)."""

    records: list[AuditRecord]
    newer: int | None  # the newer page holds the records after this seq
    older: int | None  # the older page holds the records before this seq


def audit_page(
    wanted: AuditFilter, *, before: int | None = None, after: int | None = None, size: int = 50
) -> AuditPage:
    """One page of matching records, newest first: those before seq `before`, those just
    after seq `after`, or the newest. Keyset on the unique `seq`, so a deep page costs what
    the first does, where an offset would count every row it skips. Two queries."""
    rows = audit_records(wanted)
    if after is not None:
        chunk = list(rows.filter(seq__gt=after).order_by("seq")[: size + 1])
        if len(chunk) <= size:  # as new as it gets: the first page, full
            return audit_page(wanted, size=size)
        records = chunk[:size][::-1]
        older = rows.filter(seq__lt=records[-1].seq).exists()
        return AuditPage(records, newer=records[0].seq, older=records[-1].seq if older else None)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    chunk = list(rows.order_by("-seq")[: size + 1])
    records = chunk[:size]
    newer = (
        before is not None
        and bool(records)
        and audit_records(wanted).filter(seq__gt=records[0].seq).exists()
    )
    return AuditPage(
        records,
        newer=records[0].seq if newer else None,
        older=records[-1].seq if len(chunk) > size else None,
    )


AUDIT_CSV_COLUMNS = ("seq", "at", "actor", "action", "target", "detail", "hash")


class _Line:
    """A file whose write hands the text back: csv.writer then formats one line at a time."""

    def write(self, text: str) -> str:
        return text


def audit_csv_lines(
    records: Iterable[AuditRecord], *, cell: Callable[[str], str] = str
) -> Iterator[str]:
    """The records as CSV (header first, CRLF lines), a line at a time, so a million
    records never sit in memory. `cell` rewrites every text cell: a spreadsheet must not
    run one as a formula."""
    writer = csv.writer(_Line())
    yield writer.writerow(AUDIT_CSV_COLUMNS)
    for r in records:
        detail = json.dumps(r.detail, ensure_ascii=False, sort_keys=True)
        texts = (r.at.isoformat(), r.actor, r.action, r.target, detail, r.hash)
        yield writer.writerow([str(r.seq), *map(cell, texts)])


def audit_csv(records: Iterable[AuditRecord]) -> str:
    return "".join(audit_csv_lines(records))
