"""Known content: hash banks, their imports, and matching items' media against them."""

from __future__ import annotations

import fcntl
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tipline.common.bulk import insert_rows
from tipline.harmonize.media import PDQ_MATCH_THRESHOLD, PDQ_QUALITY_FLOOR, pdq_distance
from tipline.harmonize.models import Item, MediaFile

from .banks import parse_bank_file
from .models import BankEntry, BankMatch, HashBank, ItemAnalysis
from .pdq_index import PDQIndex

Rows = list[tuple[int, str]]


class SyncedPDQIndex:
    """PDQ hashes from a table, in memory, grown as rows are added.

    The database stays the authority: every candidate is re-read by the caller, so a stale
    row can never make a match. A worker starts from the index saved in the data dir under
    `stem` (memory-mapped: fast even at 10 M hashes) and adds only the rows newer than it;
    large additions are saved for the next start. `rows_after(last_id)` gives the
    (id, PDQ hex) rows after an id, in id order.

    On PostgreSQL ids are handed out before commit, so a row can become visible after
    rows with higher ids: each id skipped below the newest one seen (within GAP_WINDOW) is
    a *gap*, looked up again at every sync through `rows_among(ids)` — which returns the
    ids that now exist (indexed or not) and the rows among them to index — until it
    appears or GAP_TTL_S has passed (a rolled-back insert never does). SQLite has one
    writer at a time, which commits in id order.
    """

    SAVE_AFTER = 10_000
    GAP_WINDOW = 10_000
    GAP_TTL_S = 600.0

    def __init__(
        self,
        stem: str,
        rows_after: Callable[[int], Rows],
        rows_among: Callable[[Sequence[int]], tuple[set[int], Rows]] | None = None,
    ) -> None:
        self.stem = stem
        self.rows_after = rows_after
        self.rows_among = rows_among
        self.index: PDQIndex | None = None
        self.last_id = 0
        self.gaps: dict[int, float] = {}  # id → when it was first missed (monotonic)
        self.lock = threading.Lock()

    def _paths(self) -> tuple[Path, Path, Path]:
        root = Path(settings.DATA_DIR)
        return root / self.stem, root / f"{self.stem}.last-id", root / f"{self.stem}.lock"

    def _open(self) -> PDQIndex:
        path, mark, lock = self._paths()
        try:
            with lock.open("a") as held:
                fcntl.flock(held, fcntl.LOCK_SH)
                last_id = int(mark.read_text())
                index = PDQIndex.load(path)
        except (OSError, ValueError):
            return PDQIndex()  # nothing saved yet, or unreadable: built from the database
        self.last_id = last_id
        return index

    def _save(self, index: PDQIndex) -> None:
        # Saved up to the first gap: rows after it are read again at the next start (an
        # id added twice replaces itself), so a row committed late is never skipped.
        upto = min(self.gaps, default=self.last_id + 1) - 1
        path, mark, lock = self._paths()
        with lock.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # the index and its mark change together
            try:
                saved = int(mark.read_text())
            except (OSError, ValueError):
                saved = 0
            if upto > saved:
                index.save(path)
                mark.write_text(str(upto))

    def _synced(self) -> PDQIndex:
        if self.index is None:
            self.index = self._open()
        new = self.rows_after(self.last_id)
        late = self._late_rows(new)
        if new:
            self.last_id = new[-1][0]
        if new or late:
            self.index.add([i for i, _ in new + late], [v for _, v in new + late])
        if len(new) >= self.SAVE_AFTER:
            try:
                self._save(self.index)
            except OSError:
                pass  # a cache only: the next start rebuilds from the database
        return self.index

    def _late_rows(self, new: Rows) -> Rows:
        """Rows of ids skipped earlier that are now committed (see the class)."""
        if self.rows_among is None or connection.vendor != "postgresql":
            return []
        now = time.monotonic()
        seen = {i for i, _ in new}
        if new:
            top = new[-1][0]
            for i in range(max(self.last_id + 1, top - self.GAP_WINDOW), top):
                if i not in seen:
                    self.gaps[i] = now
        if not self.gaps:
            return []
        present, rows = self.rows_among(sorted(self.gaps))
        for i in present:
            self.gaps.pop(i, None)
        for i in [i for i, since in self.gaps.items() if now - since > self.GAP_TTL_S]:
            del self.gaps[i]
        return [(i, v) for i, v in rows if i not in seen]

    def search(self, pdq: str, max_distance: int = PDQ_MATCH_THRESHOLD) -> list[tuple[int, int]]:
        with self.lock:
            return self._synced().search(pdq, max_distance)

    def search_many(
        self, pdqs: Sequence[str], max_distance: int = PDQ_MATCH_THRESHOLD
    ) -> list[list[tuple[int, int]]]:
        with self.lock:
            index = self._synced()
            return [index.search(p, max_distance) for p in pdqs]


def _bank_rows_after(last_id: int) -> list[tuple[int, str]]:
    return list(
        BankEntry.objects.filter(kind="pdq", id__gt=last_id)
        .order_by("id")
        .values_list("id", "value")
    )


def _bank_rows_among(ids: Sequence[int]) -> tuple[set[int], Rows]:
    rows = list(BankEntry.objects.filter(id__in=ids).values_list("id", "kind", "value"))
    return {i for i, _, _ in rows}, [(i, v) for i, kind, v in rows if kind == "pdq"]


_bank_index = SyncedPDQIndex("pdq-index", _bank_rows_after, _bank_rows_among)


def items_match_banks(*, item_ids: Sequence[int]) -> int:
    """Match the media of these items against every enabled bank entry: exact MD5 and
    SHA-256, PDQ within 31 bits (hashes of quality under 50 are not matched). A match
    marks the item as known content and proposes the bank's theme and classification.
    Returns the number of new matches."""
    media = dict(
        Item.objects.filter(id__in=item_ids, kind="media")
        .exclude(sha256="")
        .values_list("id", "sha256")
    )
    files = {m.sha256: m for m in MediaFile.objects.filter(sha256__in=set(media.values()))}
    return _record_matches(
        _candidates([(item_id, files.get(sha), sha) for item_id, sha in media.items()])
    )


def match_media(*, item_id: int, media: MediaFile) -> int:
    """Match one file found for an item (a captured image) against the banks."""
    return _record_matches(_candidates([(item_id, media, media.sha256)]))


# (item, entry, distance, the item's PDQ hash or "" for an exact hash)
Candidate = tuple[int, int, int, str]


def _candidates(media: Sequence[tuple[int, MediaFile | None, str]]) -> list[Candidate]:
    """Every bank entry that may match these items' files."""
    found: list[Candidate] = []
    by_hash: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item_id, fingerprint, sha256 in media:
        by_hash["sha256", sha256].append(item_id)
        if fingerprint is None:
            continue
        if fingerprint.md5:
            by_hash["md5", fingerprint.md5].append(item_id)
        if fingerprint.pdq and fingerprint.pdq_quality >= PDQ_QUALITY_FLOOR:
            found.extend(
                (item_id, entry_id, d, fingerprint.pdq)
                for entry_id, d in _bank_index.search(fingerprint.pdq)
            )
    for kind in ("md5", "sha256"):
        values = [v for k, v in by_hash if k == kind]
        for entry_id, value in BankEntry.objects.filter(kind=kind, value__in=values).values_list(
            "id", "value"
        ):
            found.extend((item_id, entry_id, 0, "") for item_id in by_hash[kind, value])
    return found


def _distance(entry: BankEntry, query: str, indexed: int) -> int:
    """The distance from the database's hash: a row changed since it was indexed can never
    make a match (exact hashes were looked up by value already)."""
    return pdq_distance(query, entry.value) if entry.kind == "pdq" and query else indexed


def _record_matches(candidates: list[Candidate]) -> int:
    if not candidates:
        return 0
    entries = {
        e.id: e
        for e in BankEntry.objects.filter(
            id__in={c[1] for c in candidates}, enabled=True, bank__enabled=True
        ).select_related("bank")
    }
    found = sorted(
        (
            (item_id, entry_id, _distance(entries[entry_id], query, distance))
            for item_id, entry_id, distance, query in candidates
            if entry_id in entries
        ),
        key=lambda f: (f[0], f[2], f[1]),
    )
    found = [f for f in found if f[2] <= PDQ_MATCH_THRESHOLD]
    if not found:
        return 0
    now = timezone.now()
    before = BankMatch.objects.count()
    insert_rows(
        BankMatch,
        ("item", "entry", "distance", "matched_at"),
        [(i, e, d, now) for i, e, d in found],
        ignore_conflicts=True,
    )
    closest: dict[int, HashBank] = {}
    for item_id, entry_id, _ in found:
        closest.setdefault(item_id, entries[entry_id].bank)
    for item_id, bank in closest.items():
        ItemAnalysis.objects.update_or_create(
            item_id=item_id,
            defaults={
                "known_content": True,
                "proposed_theme": bank.theme,
                "proposed_classification": bank.classification,
                "updated_at": now,
            },
        )
    # Known content: analysts are not shown it again unless they ask.
    Item.objects.filter(id__in=list(closest)).update(needs_assessment=False)
    return BankMatch.objects.count() - before


@dataclass(frozen=True)
class BankImport:
    added: int
    already_there: int
    bad_lines: list[dict[str, Any]]


@transaction.atomic
def bank_import(*, bank: HashBank, content: str) -> BankImport:
    """Import a bank file: every good line is added, every bad line reported with its
    number and reason (the file can be fixed and imported again without duplicates)."""
    good, bad = parse_bank_file(content)
    existing = set(BankEntry.objects.filter(bank=bank).values_list("kind", "value"))
    fresh = {(g.kind, g.value): g for g in good if (g.kind, g.value) not in existing}
    BankEntry.objects.bulk_create(
        [BankEntry(bank=bank, kind=g.kind, value=g.value, label=g.label) for g in fresh.values()]
    )
    return BankImport(
        added=len(fresh),
        already_there=len(good) - len(fresh),
        bad_lines=[{"line": b.line, "text": b.text, "reason": b.reason} for b in bad],
    )


def bank_entry_disable(*, entry_id: int) -> None:
    """A false positive: this hash stops matching; the rest of its bank is untouched."""
    entry = BankEntry.objects.get(id=entry_id)
    entry.enabled = False
    entry.save(update_fields=["enabled"])


def media_rematch(*, batch: int = 1000) -> int:
    """Match every media item already received against the banks (after an import):
    known content is found however long ago it was reported. Returns new matches."""
    new = 0
    last = 0
    while True:
        ids = list(
            Item.objects.filter(kind="media", id__gt=last)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return new
        with transaction.atomic():
            new += items_match_banks(item_ids=ids)
        last = ids[-1]
