"""Benchmark of the PDQ index (tipline.analyze.pdq_index) against a brute-force numpy scan.

Pure Python + numpy (no Django). `run(bank, queries)` makes a random bank in memory, builds the
index (timed), runs the queries on one core, checks them against brute force and reports peak
memory. The queries look like real use: mostly misses (random hashes) and 10 % near-duplicates
(bank hashes with 0-31 bits flipped, so each must find at least its source).
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from tipline.analyze.pdq_index import (
    DEFAULT_MAX_DISTANCE,
    PDQ_BITS,
    PDQIndex,
    brute_force,
    format_hashes,
)

NEAR_FRACTION = 0.10
# Brute force checks at most this many hash comparisons in all (bank x queries checked), and at
# least BRUTE_MIN queries (half near-duplicates, half random) when there are that many.
BRUTE_BUDGET = 200_000_000
BRUTE_MIN = 20
# search() one query at a time, for the per-call figure.
SINGLE_QUERIES = 200


def _single_thread() -> None:
    """The index is numpy element-wise code (single-threaded); if faiss is loaded in this
    process, keep its OpenMP pool to one thread too, so the figures are for one core."""
    faiss = sys.modules.get("faiss")
    if faiss is not None:  # pragma: no cover - depends on what else is imported
        faiss.omp_set_num_threads(1)


def make_queries(
    rng: np.random.Generator, bank: npt.NDArray[np.uint8], count: int, max_flips: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """count queries: NEAR_FRACTION of them bank hashes with 0..max_flips random bits flipped,
    the rest random; shuffled. Returns the queries and which of them are near-duplicates."""
    n_near = min(round(count * NEAR_FRACTION), count) if bank.shape[0] else 0
    queries = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    if n_near:
        bits = np.unpackbits(bank[rng.integers(0, bank.shape[0], n_near)], axis=1)
        for i in range(n_near):
            flips = rng.choice(PDQ_BITS, int(rng.integers(0, max_flips + 1)), replace=False)
            bits[i, flips] ^= 1
        queries[:n_near] = np.packbits(bits, axis=1)
    near = np.zeros(count, dtype=np.bool_)
    near[:n_near] = True
    order = rng.permutation(count)
    return queries[order], near[order]


def run(bank: int, queries: int, seed: int = 1) -> dict[str, Any]:
    """Build an index of `bank` random hashes, run `queries` queries at the match threshold,
    and compare with brute force. Returns the figures as a dict (see the keys below)."""
    if bank < 0 or queries < 0:
        raise ValueError("bank and queries must be >= 0")
    _single_thread()
    max_distance = DEFAULT_MAX_DISTANCE
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (bank, 32), dtype=np.uint8)
    query_codes, near = make_queries(rng, codes, queries, max_distance)
    hexes = format_hashes(query_codes)

    index = PDQIndex()
    t0 = time.perf_counter()
    index.add_codes(np.arange(bank, dtype=np.int64), codes)
    build_s = time.perf_counter() - t0

    # Batch: the queries as hex strings through search_many (parsing included).
    t0 = time.perf_counter()
    results = index.search_many(hexes, max_distance)
    search_s = time.perf_counter() - t0
    # One call a query, as a request handler would do it.
    single = hexes[:SINGLE_QUERIES]
    t0 = time.perf_counter()
    for h in single:
        index.search(h, max_distance)
    single_s = time.perf_counter() - t0

    # Brute force over a subset (all queries when bank x queries fits the budget), half of it
    # near-duplicates so the recall figure is not only about misses.
    n_check = min(queries, max(BRUTE_MIN, BRUTE_BUDGET // max(bank, 1)))
    near_idx, far_idx = np.flatnonzero(near), np.flatnonzero(~near)
    take_near = min(near_idx.size, max(n_check // 2, n_check - far_idx.size))
    checked = np.sort(np.concatenate([near_idx[:take_near], far_idx[: n_check - take_near]]))
    truth: list[list[tuple[int, int]]] = []
    t0 = time.perf_counter()
    for i in checked.tolist():
        truth.append(brute_force(codes, query_codes[i], max_distance))
    brute_s = time.perf_counter() - t0
    expected = found = extra = 0
    for i, want in zip(checked.tolist(), truth, strict=True):
        got = set(results[i])
        expected += len(want)
        found += len(got.intersection(want))
        extra += len(got.difference(want))

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if sys.platform == "darwin":  # pragma: no cover - bytes there
        rss_mb /= 1024
    return {
        "bank": bank,
        "queries": queries,
        "build_s": round(build_s, 3),
        "qps": round(queries / search_s, 1) if search_s > 0 else None,
        "qps_single": round(len(single) / single_s, 1) if single and single_s > 0 else None,
        "brute_qps": round(checked.size / brute_s, 2) if checked.size and brute_s > 0 else None,
        "brute_checked": int(checked.size),
        "brute_checked_near": int(np.count_nonzero(near[checked])),
        "recall": found / expected if expected else 1.0,
        "false_results": extra,
        "matches": sum(len(r) for r in results),
        "near_queries": int(np.count_nonzero(near)),
        "rss_mb": round(rss_mb, 1),
        "max_distance": max_distance,
        "index": index.describe(),
    }


if __name__ == "__main__":  # pragma: no cover - manual use: python -m tipline.analyze.pdq_bench
    import json

    args = [int(a) for a in sys.argv[1:3]] or [1_000_000, 1000]
    print(json.dumps(run(*args), indent=2))
