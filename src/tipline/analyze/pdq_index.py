"""An exact index of PDQ hashes: every bank hash within D bits of a query (Hamming distance,
inclusive), the same answer as a brute-force scan, far faster.

Pure Python + numpy (no Django), so a worker or a benchmark can use it on its own.

Design: multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with
multi-index hashing", CVPR 2012). The 256 bits are cut into m chunks. If two hashes differ in at
most D = m*r + a bits (0 <= a < m), then by pigeonhole at least one of any a+1 chosen chunks
differs in at most r bits, or one of the other m-a-1 chunks in at most r-1 bits (otherwise the
total would be at least (a+1)(r+1) + (m-a-1)r = D+1). So a query probes, in each chunk's table,
every key within that radius of its own chunk, and each candidate found is verified with an exact
popcount of the XOR: no result is missed and none is wrong.

Each chunk table is a counting-sort layout (CSR): the row numbers sorted by chunk value, and the
offset where each value's bucket starts (two bytes a value, relative to a block of 256 values), so
a probe is a few array reads and a candidate list is a slice. The chunk width follows the segment
size (about log2(n) bits, as the paper recommends: about one row a bucket), so the tables cost
about as much as the row lists. Everything is vectorised across the probes and across a batch of
queries; the verification reads two of the four 64-bit words of each candidate first and the
other two only for the few candidates still within reach.

Incremental: each add() becomes a new segment (a plain array scanned by brute force while it is
small); segments of similar size are merged, as in a log-structured merge tree, so adding a few
hashes never rebuilds the bank. remove() marks rows dead (merges drop them). save() writes plain
.npy files that load() memory-maps, so a worker starts without rebuilding anything.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

PDQ_BITS: Final = 256
PDQ_BYTES: Final = 32
# The PDQ match threshold (tipline.harmonize.media.PDQ_MATCH_THRESHOLD, not imported: no Django).
DEFAULT_MAX_DISTANCE: Final = 31

# A segment smaller than this is scanned by brute force (no chunk tables).
FLAT_MAX: Final = 4096
# Merge the last two segments while the older one holds at most this many times the newer one.
MERGE_RATIO: Final = 2
# Query-batch size: about this many probe or candidate entries in flight at once.
_WORK_BLOCK: Final = 1 << 17
FORMAT_VERSION: Final = 1

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


# ---------------------------------------------------------------------------------------------
# Hashes as arrays


def parse_hashes(hashes: Sequence[str]) -> U8:
    """PDQ hashes (64 hex digits each, most significant bit first) as uint8 [n, 32].

    Raises ValueError naming the first string that is not exactly 64 hex digits.
    """
    if isinstance(hashes, str):
        raise TypeError("expected a sequence of hash strings, not one string")
    n = len(hashes)
    if n == 0:
        return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
    try:
        joined = "".join(hashes)
        lengths_ok = len(joined) == 64 * n and all(len(h) == 64 for h in hashes)
        raw = bytes.fromhex(joined) if lengths_ok else b""
    except (TypeError, ValueError):
        raw = b""
    # fromhex skips whitespace, so a 64-character string with a space yields fewer bytes.
    if len(raw) != PDQ_BYTES * n:
        for h in hashes:
            if not (isinstance(h, str) and len(h) == 64 and set(h) <= _HEX_DIGITS):
                raise ValueError(f"not a PDQ hash (expected 64 hex digits): {h!r}")
        raise ValueError("not PDQ hashes (expected 64 hex digits each)")  # pragma: no cover
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, PDQ_BYTES)


def format_hashes(codes: npt.ArrayLike) -> list[str]:
    """uint8 [n, 32] back to 64-hex-digit strings."""
    arr = _as_codes(codes)
    return [row.hex() for row in (bytes(r) for r in arr)]


def _as_codes(codes: npt.ArrayLike) -> U8:
    arr = np.asarray(codes)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != PDQ_BYTES:
        raise ValueError(
            f"expected uint8 codes of shape [n, {PDQ_BYTES}], got {arr.dtype} {arr.shape}"
        )
    return arr


def to_words(codes: npt.ArrayLike) -> U64:
    """uint8 [n, 32] as four big-endian 64-bit words a hash, column-wise: uint64 [4, n]."""
    arr = np.ascontiguousarray(_as_codes(codes))
    big = arr.view(">u8")  # [n, 4]
    words = np.empty((4, arr.shape[0]), dtype=np.uint64)
    for k in range(4):
        words[k] = big[:, k]  # byte-swapped on the way (no [n, 4] temporary)
    return words


def _popcount(x: U64) -> U8:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)  # type: ignore[no-any-return]
    return _popcount_table(x)  # pragma: no cover - numpy < 2.0


def _popcount_table(x: U64) -> U8:
    table = _byte_popcounts()
    return table[x.view(np.uint8).reshape(*x.shape, 8)].sum(axis=-1, dtype=np.uint8)


@lru_cache(maxsize=1)
def _byte_popcounts() -> U8:
    return np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def brute_force(
    bank: npt.ArrayLike, query: npt.ArrayLike | str, max_distance: int
) -> list[tuple[int, int]]:
    """The ground truth: every row of bank (uint8 [n, 32]) within max_distance bits of query
    (uint8 [32] or 64 hex digits), as (row, distance) sorted by distance then row.

    A full numpy scan: the hashes as four 64-bit words, XOR, popcount (np.bitwise_count, or a
    byte table on numpy < 2). The words are read in native byte order: the popcount of an XOR
    does not depend on it, so the bank is not copied.
    """
    codes = np.ascontiguousarray(_as_codes(bank))
    q_codes = parse_hashes([query]) if isinstance(query, str) else _as_codes(query)
    if q_codes.shape[0] != 1:
        raise ValueError("brute_force takes one query")
    b64 = codes.view(np.uint64) if codes.ctypes.data % 8 == 0 else codes.copy().view(np.uint64)
    q64 = np.ascontiguousarray(q_codes).copy().view(np.uint64)[0]
    rows_out, dist_out = [], []
    block = 1 << 16
    for lo in range(0, b64.shape[0], block):
        blk = b64[lo : lo + block]
        dist = _popcount(blk[:, 0] ^ q64[0]).astype(np.int16)
        for k in range(1, 4):
            dist += _popcount(blk[:, k] ^ q64[k])
        rows = np.flatnonzero(dist <= max_distance)
        rows_out.append(rows + lo)
        dist_out.append(dist[rows].astype(np.int64))
    if not rows_out:
        return []
    rows = np.concatenate(rows_out)
    d = np.concatenate(dist_out)
    order = np.lexsort((rows, d))
    return list(zip(rows[order].tolist(), d[order].tolist(), strict=True))


# ---------------------------------------------------------------------------------------------
# Chunk layout


def chunk_count(n: int) -> int:
    """How many chunks for a segment of n hashes: chunks of about log2(n) bits, between 8
    (32 chunks) and 24 bits (11 chunks; the tables of a 24-bit chunk take 32 MiB)."""
    bits = max(8.0, min(24.0, float(np.log2(max(n, 2)))))
    return int(min(32, max(11, round(PDQ_BITS / bits))))


def chunk_widths(m: int) -> tuple[int, ...]:
    """256 bits in m contiguous chunks as even as possible (the wider ones first)."""
    base, extra = divmod(PDQ_BITS, m)
    return tuple(base + 1 if i < extra else base for i in range(m))


@lru_cache(maxsize=256)
def _flip_masks(width: int, radius: int) -> I64:
    """Every width-bit mask with at most radius bits set (radius < 0: none)."""
    masks = [0]
    for k in range(1, min(radius, width) + 1):
        for bits in itertools.combinations(range(width), k):
            masks.append(sum(1 << b for b in bits))
    if radius < 0:
        masks = []
    out = np.array(masks, dtype=np.int64)
    out.setflags(write=False)
    return out


def _radii(widths: tuple[int, ...], max_distance: int) -> list[int]:
    """Per chunk, the probe radius that keeps the search exact (see the module docstring):
    the a+1 narrowest chunks get r, the others r-1."""
    m = len(widths)
    r, a = divmod(max_distance, m)
    order = sorted(range(m), key=lambda c: widths[c])
    radii = [r - 1] * m
    for c in order[: a + 1]:
        radii[c] = r
    return radii


_BLOCK_BITS: Final = 8
_BLOCK: Final = 1 << _BLOCK_BITS


def _table_offsets(widths: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Where each chunk's part of `rel` and of `base` starts (and the totals, last)."""
    rel = np.cumsum((0, *((1 << w) // _BLOCK * (_BLOCK + 1) for w in widths)))
    base = np.cumsum((0, *((1 << w) // _BLOCK for w in widths)))
    return tuple(int(x) for x in rel), tuple(int(x) for x in base)


@dataclass(frozen=True)
class _Plan:
    chunks: I64  # per probe, its chunk
    masks: I64  # per probe, the bits it flips
    rel_at: I64  # per probe, where its chunk's rel table starts
    base_at: I64  # per probe, where its chunk's base table starts
    candidates: int  # expected candidates a random query


def _extract(words: U64, start: int, width: int) -> U64:
    """The width-bit chunk starting at bit `start` (MSB first) of every hash (a new array)."""
    i, off = divmod(start, 64)
    if off + width <= 64:
        val = words[i] >> np.uint64(64 - off - width)
    else:
        low = off + width - 64  # bits taken from the next word
        val = words[i] << np.uint64(low)
        val |= words[i + 1] >> np.uint64(64 - low)
    val &= np.uint64((1 << width) - 1)
    return val


# ---------------------------------------------------------------------------------------------
# Segments


class _Segment:
    """A block of hashes: ids, words, alive flags, and (unless flat) the chunk tables.

    Chunk table layout, per chunk of w bits: `perm` holds the row numbers sorted by chunk value
    (n int32, at c*n in the flat array). The bucket of value v is perm[base[b] + rel[v + b]
    : base[b] + rel[v + b + 1]] where b = v >> 8: the values go by blocks of 256, `base` (int64,
    one a block) is where a block starts in perm and `rel` (257 a block, uint16 unless a block
    holds 65536 rows or more) where each bucket starts inside its block. Two bytes a value
    instead of four or eight: the tables of a 10 M segment fit in ~250 MB.
    """

    def __init__(
        self,
        ids: I64,
        words: U64,
        alive: npt.NDArray[np.bool_],
        widths: tuple[int, ...],
        perm: npt.NDArray[np.int32] | None = None,
        rel: npt.NDArray[np.unsignedinteger[Any]] | None = None,
        base: I64 | None = None,
    ) -> None:
        self.ids = ids
        self.words = words
        self.alive = alive
        self.n_alive = int(np.count_nonzero(alive))
        self.widths = widths
        self.starts = tuple(int(x) for x in np.cumsum((0, *widths))[:-1])
        self.rel_at, self.base_at = _table_offsets(widths)
        self.perm = perm
        self.rel = rel
        self.base = base
        self._id_sorted: tuple[I64, I64] | None = None  # (order, ids[order]) when unsorted
        self._plans: dict[int, _Plan | None] = {}  # by max_distance
        self.ids_sorted = bool(ids.size < 2 or np.all(ids[1:] > ids[:-1]))

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @property
    def flat(self) -> bool:
        return not self.widths

    @classmethod
    def build(cls, ids: I64, words: U64, chunks: int | None = None) -> _Segment:
        n = int(ids.shape[0])
        alive = np.ones(n, dtype=np.bool_)
        if n < FLAT_MAX and chunks is None:
            return cls(ids, words, alive, ())
        m = chunks if chunks is not None else chunk_count(n)
        if not 11 <= m <= 32:
            raise ValueError(f"chunks must be between 11 and 32 (8 to 24 bits each): {m}")
        if n >= 2**31:
            raise ValueError("a segment holds fewer than 2**31 hashes")
        widths = chunk_widths(m)
        rel_at, base_at = _table_offsets(widths)
        perm = np.empty(len(widths) * n, dtype=np.int32)
        rel: npt.NDArray[np.unsignedinteger[Any]] = np.empty(rel_at[-1], dtype=np.uint16)
        base = np.empty(base_at[-1], dtype=np.int64)
        rows = np.arange(n, dtype=np.uint64)
        low = 0 if sys.byteorder == "little" else 1  # the low half of a uint64 as uint32
        for c, w in enumerate(widths):
            key = _extract(words, sum(widths[:c]), w)
            # Bucket sizes, cumulated per block of 256 values.
            blocks = np.bincount(key.view(np.int64), minlength=1 << w).reshape(-1, _BLOCK)
            np.cumsum(blocks, axis=1, out=blocks)
            totals = blocks[:, -1].copy()
            starts = np.cumsum(totals) - totals
            base[base_at[c] : base_at[c + 1]] = starts + c * n
            if rel.dtype == np.uint16 and totals.max(initial=0) > np.iinfo(np.uint16).max:
                rel = rel.astype(np.uint32)  # a crowded block (many equal chunks)
            table = rel[rel_at[c] : rel_at[c + 1]].reshape(-1, _BLOCK + 1)
            table[:, 0] = 0
            table[:, 1:] = blocks
            del blocks
            # Rows sorted by chunk value: (value, row) packed in one uint64 and sorted in place
            # (numpy's SIMD sort is several times faster than argsort).
            key <<= np.uint64(32)
            key |= rows
            key.sort()
            perm[c * n : (c + 1) * n] = key.view(np.uint32)[low::2]
            del key
        return cls(ids, words, alive, widths, perm, rel, base)

    def rows_of(self, ids: I64) -> I64:
        """Row numbers of the given ids present in this segment (alive or not)."""
        if self.n == 0 or ids.size == 0:
            return np.zeros(0, dtype=np.int64)
        if self.ids_sorted:
            sorted_ids, order = self.ids, None
        else:
            if self._id_sorted is None:
                by_id = np.argsort(self.ids, kind="stable")
                self._id_sorted = (by_id, self.ids[by_id])
            order, sorted_ids = self._id_sorted
        at = np.searchsorted(sorted_ids, ids)
        ok = at < self.n
        at = at[ok]
        found = at[sorted_ids[at] == ids[ok]]
        return found if order is None else order[found]

    def kill(self, rows: I64) -> int:
        rows = np.unique(rows)
        rows = rows[self.alive[rows]]
        if rows.size:
            if not self.alive.flags.writeable:
                self.alive = self.alive.copy()
            self.alive[rows] = False
            self.n_alive -= int(rows.size)
        return int(rows.size)

    def alive_part(self) -> tuple[I64, U64]:
        if self.n_alive == self.n:
            return np.asarray(self.ids), np.asarray(self.words)
        return self.ids[self.alive], self.words[:, self.alive]

    # -- search ---------------------------------------------------------------------------

    def search(self, q: U64, max_distance: int) -> tuple[I64, I64, I64]:
        """Matches of the queries q (uint64 [4, Q]) as (query index, row, distance) arrays."""
        nq = int(q.shape[1])
        empty = np.zeros(0, dtype=np.int64)
        if self.n_alive == 0 or nq == 0:
            return empty, empty, empty
        if self.flat:
            plan = None
        elif max_distance in self._plans:
            plan = self._plans[max_distance]
        else:
            plan = self._plans[max_distance] = self._plan(max_distance)
        parts = []
        if plan is None:
            block = max(1, _WORK_BLOCK // max(self.n, 1))
            for lo in range(0, nq, block):
                parts.append(self._scan(q[:, lo : lo + block], max_distance, lo))
        else:
            block = max(1, _WORK_BLOCK // max(plan.chunks.size, plan.candidates, 1))
            for lo in range(0, nq, block):
                parts.append(self._probe(q[:, lo : lo + block], max_distance, lo, plan))
        qi = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts])
        if self.n_alive != self.n and rows.size:
            keep = self.alive[rows]
            qi, rows, dist = qi[keep], rows[keep], dist[keep]
        return qi, rows, dist

    def _plan(self, max_distance: int) -> _Plan | None:
        """What to probe: per probe, its chunk, the flip mask and where the chunk's tables
        start. None when a plain scan is cheaper."""
        radii = _radii(self.widths, max_distance)
        chunk_of: list[I64] = []
        masks: list[I64] = []
        est = 0.0
        for c, (w, r) in enumerate(zip(self.widths, radii, strict=True)):
            if r < 0:
                continue
            if r > 4:
                return None
            mk = _flip_masks(w, r)
            chunk_of.append(np.full(mk.size, c, dtype=np.int64))
            masks.append(mk)
            est += mk.size * self.n / (1 << w)
        n_probes = sum(mk.size for mk in masks)
        # A probe costs about two reads, a candidate about six operations, a scanned row four.
        if n_probes == 0 or 2 * n_probes + 6 * est > 4 * self.n:
            return None
        chunks = np.concatenate(chunk_of)
        return _Plan(
            chunks=chunks,
            masks=np.concatenate(masks),
            rel_at=np.asarray(self.rel_at[:-1], dtype=np.int64)[chunks],
            base_at=np.asarray(self.base_at[:-1], dtype=np.int64)[chunks],
            candidates=int(est),
        )

    def _scan(self, q: U64, max_distance: int, q0: int) -> tuple[I64, I64, I64]:
        w = self.words
        d = _popcount(w[0][None, :] ^ q[0][:, None]) + _popcount(w[1][None, :] ^ q[1][:, None])
        qi, rows = np.nonzero(d <= max_distance)
        return self._finish(q, max_distance, q0, qi, rows, d[qi, rows])

    def _probe(self, q: U64, max_distance: int, q0: int, plan: _Plan) -> tuple[I64, I64, I64]:
        assert self.perm is not None and self.rel is not None and self.base is not None
        nq = int(q.shape[1])
        # The query's own chunk values [m, nq]; each probe flips some bits of one of them.
        qchunks = np.stack(
            [_extract(q, s, w) for s, w in zip(self.starts, self.widths, strict=True)]
        ).view(np.int64)
        value = (qchunks[plan.chunks] ^ plan.masks[:, None]).T  # [nq, P]
        block = value >> _BLOCK_BITS
        at = value + block  # 257 entries a block of 256 values
        at += plan.rel_at
        lo = self.rel[at]
        lens = self.rel[at + 1] - lo  # bucket sizes, [nq, P]
        per_query = lens.sum(axis=1, dtype=np.int64)
        total = int(per_query.sum())
        empty = np.zeros(0, dtype=np.int64)
        if total == 0:
            return empty, empty, empty
        nz = np.flatnonzero(lens)
        len_nz = lens.ravel()[nz].astype(np.int64)
        start = self.base[block.ravel()[nz] + plan.base_at[nz % plan.chunks.size]]
        start += lo.ravel()[nz]
        ends = np.cumsum(len_nz)
        pos = np.arange(total, dtype=np.int64)
        pos += np.repeat(start - (ends - len_nz), len_nz)
        rows = self.perm[pos].astype(np.int64)
        qi = np.repeat(np.arange(nq, dtype=np.int64), per_query)
        w = self.words
        d = _popcount(w[0][rows] ^ q[0][qi])
        d += _popcount(w[1][rows] ^ q[1][qi])
        keep = np.flatnonzero(d <= max_distance)
        return self._finish(q, max_distance, q0, qi[keep], rows[keep], d[keep])

    def _finish(
        self, q: U64, max_distance: int, q0: int, qi: I64, rows: I64, d01: U8
    ) -> tuple[I64, I64, I64]:
        """Add the last two words to the first two's distance, keep those within reach, and
        drop duplicate (query, row) pairs (a hash can be found through several chunks)."""
        w = self.words
        d = d01.astype(np.int64)
        d += _popcount(w[2][rows] ^ q[2][qi])
        d += _popcount(w[3][rows] ^ q[3][qi])
        keep = d <= max_distance
        qi, rows, d = qi[keep].astype(np.int64), rows[keep].astype(np.int64), d[keep]
        if rows.size > 1 and not self.flat:
            _, first = np.unique(qi * self.n + rows, return_index=True)
            qi, rows, d = qi[first], rows[first], d[first]
        return qi + q0, rows, d


# ---------------------------------------------------------------------------------------------
# The index


class PDQIndex:
    """Exact radius search over PDQ hashes: search(h, D) returns every (id, distance) with
    distance <= D, sorted by distance then id, exactly as a brute-force scan would."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        # Tests and benchmarks may force the chunk count (None: chosen from the segment size).
        self.chunks: int | None = None

    def __len__(self) -> int:
        return sum(s.n_alive for s in self._segments)

    def __repr__(self) -> str:
        return f"<PDQIndex {len(self)} hashes; {self.describe()}>"

    def describe(self) -> str:
        """The layout in a few words: per segment, live/total rows and the chunk count."""
        parts = [
            f"{s.n_alive}/{s.n} " + ("scanned" if s.flat else f"m={len(s.widths)}")
            for s in self._segments
        ]
        return "numpy multi-index hashing; segments: " + (", ".join(parts) or "none")

    # -- building -------------------------------------------------------------------------

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        """Add hashes (64 hex digits) under integer ids. An id already present is replaced.
        Raises ValueError on a bad hash, a length mismatch or an id twice in one call."""
        codes = parse_hashes(hashes)
        self.add_codes(ids, codes)

    def add_codes(self, ids: Sequence[int] | npt.ArrayLike, codes: npt.ArrayLike) -> None:
        """add() for hashes already as uint8 [n, 32] (no hex round trip)."""
        id_arr = _as_ids(ids)
        arr = _as_codes(codes) if np.asarray(codes).size else np.zeros((0, PDQ_BYTES), np.uint8)
        if id_arr.shape[0] != arr.shape[0]:
            raise ValueError(f"{id_arr.shape[0]} ids for {arr.shape[0]} hashes")
        if id_arr.size == 0:
            return
        if _has_duplicates(id_arr):
            raise ValueError("an id appears more than once in one add()")
        self._remove_array(id_arr)
        self._segments.append(_Segment.build(id_arr, to_words(arr), self.chunks))
        self._merge_tail()

    def remove(self, ids: Iterable[int]) -> int:
        """Forget these ids (unknown ones are ignored); returns how many were removed."""
        return self._remove_array(_as_ids(list(ids)))

    def _remove_array(self, ids: I64) -> int:
        removed = 0
        for seg in self._segments:
            if seg.n_alive:
                removed += seg.kill(seg.rows_of(ids))
        return removed

    def compact(self) -> None:
        """Merge every segment into one and drop removed rows (a full rebuild)."""
        if len(self._segments) > 1 or any(s.n_alive != s.n for s in self._segments):
            self._segments = [self._merged(self._segments)] if len(self) else []

    def _merge_tail(self) -> None:
        segs = self._segments
        while len(segs) >= 2 and segs[-2].n_alive <= MERGE_RATIO * segs[-1].n_alive:
            merged = self._merged(segs[-2:])
            segs[-2:] = [merged] if merged.n else []
        # Drop segments emptied by remove().
        self._segments = [s for s in segs if s.n_alive]

    def _merged(self, segs: Sequence[_Segment]) -> _Segment:
        parts = [s.alive_part() for s in segs]
        ids = np.concatenate([p[0] for p in parts])
        words = np.concatenate([p[1] for p in parts], axis=1)
        return _Segment.build(ids, np.ascontiguousarray(words), self.chunks)

    # -- searching ------------------------------------------------------------------------

    def search(
        self, hash_hex: str, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[tuple[int, int]]:
        """Every (id, distance) within max_distance bits (inclusive), by distance then id."""
        return self.search_many([hash_hex], max_distance)[0]

    def search_many(
        self, hashes: Sequence[str], max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[list[tuple[int, int]]]:
        """search() for several hashes at once (vectorised: faster than one by one)."""
        return self.search_codes(parse_hashes(hashes), max_distance)

    def search_codes(
        self, codes: npt.ArrayLike, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[list[tuple[int, int]]]:
        """search_many() for queries already as uint8 [n, 32]."""
        qi, ids, dist = self.search_arrays(codes, max_distance)
        nq = int(np.asarray(codes).reshape(-1, PDQ_BYTES).shape[0])
        bounds = np.searchsorted(qi, np.arange(nq + 1)).tolist()
        pairs = list(zip(ids.tolist(), dist.tolist(), strict=True))
        return [pairs[bounds[i] : bounds[i + 1]] for i in range(nq)]

    def search_arrays(
        self, codes: npt.ArrayLike, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> tuple[I64, I64, I64]:
        """All matches as three arrays (query index, id, distance), sorted by query index,
        distance, id."""
        if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
            raise TypeError(f"max_distance must be an int, not {type(max_distance).__name__}")
        if not 0 <= max_distance <= PDQ_BITS:
            raise ValueError(f"max_distance must be between 0 and {PDQ_BITS}: {max_distance}")
        arr = np.asarray(codes)
        q = to_words(arr) if arr.size else np.zeros((4, 0), dtype=np.uint64)
        found = []
        for seg in self._segments:
            qi, rows, d = seg.search(q, int(max_distance))
            if rows.size:
                found.append((qi, seg.ids[rows], d))
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        qi = np.concatenate([f[0] for f in found])
        ids = np.concatenate([f[1] for f in found]).astype(np.int64)
        dist = np.concatenate([f[2] for f in found])
        order = np.lexsort((ids, dist, qi))
        return qi[order], ids[order], dist[order]

    # -- persistence ----------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index as a directory of .npy files (replacing whatever is at path)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            meta: dict[str, Any] = {"format": "tipline-pdq-index", "version": FORMAT_VERSION}
            segs = []
            for i, seg in enumerate(self._segments):
                np.save(tmp / f"{i}.ids.npy", seg.ids)
                np.save(tmp / f"{i}.words.npy", seg.words)
                np.save(tmp / f"{i}.alive.npy", seg.alive)
                if not seg.flat:
                    assert seg.perm is not None and seg.rel is not None and seg.base is not None
                    np.save(tmp / f"{i}.perm.npy", seg.perm)
                    np.save(tmp / f"{i}.rel.npy", seg.rel)
                    np.save(tmp / f"{i}.base.npy", seg.base)
                segs.append({"n": seg.n, "widths": list(seg.widths)})
            meta["segments"] = segs
            (tmp / "meta.json").write_text(json.dumps(meta))
            old = None
            if target.exists():
                old = target.with_name(f".{target.name}.old-{os.getpid()}")
                target.rename(old)
            tmp.rename(target)
            if old is not None:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = True) -> PDQIndex:
        """Open an index written by save(); its arrays are memory-mapped (read-only) unless
        mmap is False."""
        src = Path(path)
        meta = json.loads((src / "meta.json").read_text())
        if meta.get("format") != "tipline-pdq-index" or meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"not a PDQ index (format version {FORMAT_VERSION}): {src}")
        mode: Any = "r" if mmap else None
        index = cls()
        for i, s in enumerate(meta["segments"]):
            widths = tuple(int(w) for w in s["widths"])
            ids = np.load(src / f"{i}.ids.npy", mmap_mode=mode)
            words = np.load(src / f"{i}.words.npy", mmap_mode=mode)
            alive = np.load(src / f"{i}.alive.npy")
            perm = rel = base = None
            if widths:
                perm = np.load(src / f"{i}.perm.npy", mmap_mode=mode)
                rel = np.load(src / f"{i}.rel.npy", mmap_mode=mode)
                base = np.load(src / f"{i}.base.npy", mmap_mode=mode)
            if ids.shape != (s["n"],) or words.shape != (4, s["n"]) or alive.shape != (s["n"],):
                raise ValueError(f"damaged PDQ index (segment {i}): {src}")
            index._segments.append(_Segment(ids, words, alive, widths, perm, rel, base))
        return index


def _has_duplicates(ids: I64) -> bool:
    if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return False
    ordered = np.sort(ids)  # (np.unique hashes: much slower on millions)
    return bool(np.any(ordered[1:] == ordered[:-1]))


def _as_ids(ids: Any) -> I64:
    try:
        arr = np.asarray(ids)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"ids must be 64-bit integers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError("ids must be a flat sequence of integers")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in a signed 64-bit integer")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"ids must be integers, not {arr.dtype}")
    return arr.astype(np.int64, copy=False)
