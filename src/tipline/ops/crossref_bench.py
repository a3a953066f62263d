"""`tipline bench crossref`: the cross-reference stage alone on a generated corpus with
known networks, timed batch by batch, and scored against the generator's ground truth.

Setup (not timed) writes what the earlier stages would have left: reports, their pages,
their pictures' fingerprints and the observables Analyze's own extractor finds in the ad
texts. Pictures are fingerprinted at the hash level: each generated picture gets a random
PDQ hash and each edit of it flips 4 to 15 of its bits, as small edits do; rendering and
hashing a million pictures would measure Harmonize, which `tipline bench harmonize` does.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import batched
from typing import Any

from django.db import connection, transaction

from tipline.analyze.models import Observable
from tipline.analyze.observables import extract
from tipline.common.bulk import insert_rows, reset_sequences
from tipline.crossref import core as crossref_core
from tipline.crossref import services as crossref
from tipline.crossref.models import Membership
from tipline.harmonize.core import ItemKind, item_key
from tipline.harmonize.models import Item, MediaFile, ReportItem
from tipline.harmonize.urls import item_url, registrable_domain
from tipline.intake.models import Report

from .demo import DemoImage, DemoReport, generate

SETUP_CHUNK = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_pdq(image: DemoImage) -> str:
    """A picture's PDQ hash: random per picture; an edit flips a few of its bits."""
    base = int.from_bytes(hashlib.blake2b(image.picture.encode(), digest_size=32).digest(), "big")
    if image.variant:
        rng = random.Random(f"{image.picture}/{image.variant}")  # noqa: S311 - synthetic
        for bit in rng.sample(range(256), 4 + image.variant % 12):
            base ^= 1 << bit
    return f"{base:064x}"


def picture_sha256(image: DemoImage) -> str:
    return hashlib.sha256(f"{image.picture}/{image.variant}".encode()).hexdigest()


def _observables(text: str) -> list[tuple[str, str, int, int]]:
    return [(o.type, o.value, o.start, o.end) for o in extract(text)]


class Corpus:
    """Writes generated reports as the analyze stage leaves them, chunk by chunk."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.media_ids: dict[str, int] = {}  # picture SHA-256 → media item id
        self.next_media_item = 0
        self.truth: dict[int, int | None] = {}  # page item id → true network

    def write(self, chunk: Sequence[DemoReport], first_media_item: int) -> None:
        if not self.next_media_item:
            self.next_media_item = first_media_item
        found = self.pool.map(_observables, [r.excerpt for r in chunk], chunksize=500)
        reports: list[tuple[Any, ...]] = []
        items: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        observables: list[tuple[Any, ...]] = []
        media_files: list[tuple[Any, ...]] = []
        for r, obs in zip(chunk, found, strict=True):
            rid = r.index + 1
            at = START + timedelta(seconds=r.index)
            reports.append(
                (
                    rid,
                    "provider",
                    at,
                    f"B{rid:015d}",
                    r.category,
                    [r.url],
                    r.description,
                    r.excerpt,
                    "",
                    "",
                    "",
                    r.reporter_country,
                    {"bench": r.index},
                    "",
                    "analyzed",
                    at,
                    0,
                    "",
                    "",
                )
            )
            canonical = item_url(r.url)
            host = canonical.host
            items.append(
                (
                    rid,
                    ItemKind.URL,
                    item_key(ItemKind.URL, str(canonical)),
                    str(canonical),
                    host,
                    canonical.host_kind,
                    registrable_domain(host) or "",
                    "",
                    "",
                    "other",
                    "",
                    "",
                    "unassessed",
                    True,
                    1,
                    at,
                    at,
                    ["provider"],
                    [r.reporter_country],
                    [],
                )
            )
            links.append((rid, rid, r.url, "new_work"))
            self.truth[rid] = r.network
            for type_, value, start, end in obs:
                observables.append((rid, "excerpt", type_, value, start, end))
            if r.image is not None:
                sha = picture_sha256(r.image)
                media_item = self.media_ids.get(sha)
                if media_item is None:
                    media_item = self.media_ids[sha] = self.next_media_item
                    self.next_media_item += 1
                    media_files.append(
                        (
                            media_item,
                            sha,
                            sha[:32],
                            sha[:40],
                            synthetic_pdq(r.image),
                            100,
                            320,
                            240,
                            "png",
                            "",
                            "",
                        )
                    )
                    items.append(
                        (
                            media_item,
                            ItemKind.MEDIA,
                            item_key(ItemKind.MEDIA, sha),
                            "",
                            "",
                            "",
                            "",
                            sha,
                            "",
                            "other",
                            "",
                            "",
                            "unassessed",
                            True,
                            1,
                            at,
                            at,
                            ["provider"],
                            [],
                            [],
                        )
                    )
                links.append((rid, media_item, r.image.filename, "new_work"))
        insert_rows(
            Report,
            [
                "id",
                "channel",
                "received_at",
                "receipt",
                "category",
                "urls",
                "description",
                "excerpt",
                "reporter_name",
                "reporter_email",
                "reporter_phone",
                "reporter_country",
                "payload",
                "payload_sha256",
                "state",
                "state_changed_at",
                "attempts",
                "last_error",
                "failed_stage",
            ],
            reports,
        )
        insert_rows(
            Item,
            [
                "id",
                "kind",
                "key",
                "url",
                "host",
                "host_kind",
                "domain",
                "sha256",
                "text",
                "theme",
                "content_type",
                "site_type",
                "classification",
                "needs_assessment",
                "report_count",
                "first_reported_at",
                "last_reported_at",
                "channels",
                "reporter_countries",
                "evidence",
            ],
            items,
        )
        insert_rows(ReportItem, ["report_id", "item_id", "as_reported", "effect"], links)
        insert_rows(
            Observable, ["report_id", "field", "type", "value", "start", "end"], observables
        )
        insert_rows(
            MediaFile,
            [
                "id",
                "sha256",
                "md5",
                "sha1",
                "pdq",
                "pdq_quality",
                "width",
                "height",
                "format",
                "thumbnail_sha256",
                "problem",
            ],
            media_files,
        )


def run(*, items: int, seed: int, batch: int, spread: float = 0.1) -> dict[str, Any]:
    setup_started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        corpus = Corpus(pool)
        for chunk in batched(generate(reports=items, seed=seed, spread=spread), SETUP_CHUNK):
            with transaction.atomic():
                corpus.write(chunk, first_media_item=items + 1)
    reset_sequences(Report, Item, MediaFile)
    setup_s = time.perf_counter() - setup_started

    ids = list(range(1, items + 1))
    batch_times: list[tuple[int, float]] = []
    started = time.perf_counter()
    for start in range(0, items, batch):
        chunk_ids = ids[start : start + batch]
        t0 = time.perf_counter()
        with transaction.atomic():
            crossref.reports_crossref(chunk_ids)
        batch_times.append((len(chunk_ids), time.perf_counter() - t0))
    seconds = time.perf_counter() - started

    tenth = max(1, items // 10)
    found = dict(Membership.objects.filter(item_id__lte=items).values_list("item_id", "network_id"))
    scores = crossref_core.pairwise_scores(corpus.truth, found)
    return {
        "items": items,
        "media_items": len(corpus.media_ids),
        "batch": batch,
        "seconds": round(seconds, 1),
        "setup_seconds": round(setup_s, 1),
        "items_per_s": round(items / seconds, 1),
        "first_10pct_per_s": round(tenth / _time_for(batch_times, tenth), 1),
        "last_10pct_per_s": round(tenth / _time_for(batch_times[::-1], tenth), 1),
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "true_pairs": scores.true_pairs,
        "found_pairs": scores.found_pairs,
        "true_networks": len({n for n in corpus.truth.values() if n is not None}),
        "found_networks": len(set(found.values())),
        "links": _count("crossref_link"),
        "common_values": _count("crossref_commonvalue"),
        "seed": seed,
        "spread": spread,
    }


def _time_for(batch_times: list[tuple[int, float]], wanted: int) -> float:
    """Seconds the first `wanted` items took (the last batch counted pro rata)."""
    total, seconds = 0, 0.0
    for n, s in batch_times:
        if total + n >= wanted:
            return seconds + s * (wanted - total) / n
        total += n
        seconds += s
    return max(seconds, 1e-9)


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
        return int(cursor.fetchone()[0])
