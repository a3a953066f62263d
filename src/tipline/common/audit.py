"""The audit log: append a record to the hash chain, check the chain.

Each record's hash is the SHA-256 of the previous record's hash and its own content in a
canonical JSON form, so changing, inserting or deleting any row breaks every hash after
it; `verify` names the first row that does not hold. Records are appended one at a time
under the database's write lock (SQLite) or an advisory lock (PostgreSQL), so two
writers never chain onto the same predecessor."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
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


def audit_csv(records: Iterable[AuditRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "at", "actor", "action", "target", "detail", "hash"])
    for r in records:
        detail = json.dumps(r.detail, ensure_ascii=False, sort_keys=True)
        writer.writerow([r.seq, r.at.isoformat(), r.actor, r.action, r.target, detail, r.hash])
    return out.getvalue()
