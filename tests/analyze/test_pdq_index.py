"""The PDQ index answers exactly what a brute-force scan answers: every hash within D bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tipline.analyze import pdq_bench
from tipline.analyze.pdq_index import (
    PDQIndex,
    brute_force,
    format_hashes,
    parse_hashes,
)

MATCHING = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "pdq" / "matching"


def _flip(rng: np.random.Generator, code: np.ndarray, k: int) -> np.ndarray:
    bits = np.unpackbits(code)
    bits[rng.choice(256, k, replace=False)] ^= 1
    return np.packbits(bits)


def _bank(seed: int, n_random: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """A random bank with a cluster of near-duplicates (a source hash with 0..40 bits flipped,
    several of each), and queries: random hashes, bank hashes, and bank hashes with 0..35 bits
    flipped."""
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, 256, (n_random, 32), dtype=np.uint8)
    source = bank[0]
    cluster = np.stack([_flip(rng, source, k % 41) for k in range(400)])
    bank = np.concatenate([bank, cluster])
    picks = rng.integers(0, bank.shape[0], 30)
    near = np.stack([_flip(rng, bank[i], int(rng.integers(0, 36))) for i in picks])
    queries = np.concatenate(
        [
            rng.integers(0, 256, (10, 32), dtype=np.uint8),
            bank[picks[:10]],
            near,
            np.stack([_flip(rng, source, k) for k in (0, 1, 15, 16, 31, 32)]),
        ]
    )
    return bank, queries


def _built(bank: np.ndarray, chunks: int | None = None) -> PDQIndex:
    index = PDQIndex()
    index.chunks = chunks
    index.add(list(range(bank.shape[0])), format_hashes(bank))
    return index


# -- exactness -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunks", [None, 13, 16, 24])  # 13, 24: chunks across words
def test_random_bank_matches_brute_force(chunks: int | None) -> None:
    bank, queries = _bank(seed=3)
    index = _built(bank, chunks)
    hexes = format_hashes(queries)
    for d in (0, 1, 15, 31):
        truth = [brute_force(bank, q, d) for q in queries]
        assert index.search_many(hexes, d) == truth
        assert index.search(hexes[-1], d) == truth[-1]
    # Near-duplicates were found at every distance up to the threshold, not just misses.
    assert sum(len(r) for r in index.search_many(hexes, 31)) > 100
    assert {d for r in index.search_many(hexes, 31) for _, d in r} >= {0, 1, 15, 31}


def _read(name: str) -> list[str]:
    return [line.strip() for line in (MATCHING / name).read_text().splitlines() if line.strip()]


@pytest.mark.skipif(
    not (MATCHING / "needles.txt").is_file() or not (MATCHING / "haystack.txt").is_file(),
    reason=f"the PDQ reference matching vectors are not at {MATCHING}",
)
@pytest.mark.parametrize("chunks", [None, 14, 16])  # None: a small bank is scanned
def test_reference_needles_and_haystack(chunks: int | None) -> None:
    needles, haystack = _read("needles.txt"), _read("haystack.txt")
    bank = parse_hashes(haystack)
    index = _built(bank, chunks)
    queries = parse_hashes(needles)
    total = 0
    for d in (0, 1, 8, 16, 24, 31, 32, 40):
        got = index.search_many(needles, d)
        for q, found in zip(queries, got, strict=True):
            assert found == brute_force(bank, q, d)
            total += len(found)
    assert total > 0  # the vectors do contain matches


def test_brute_force_is_the_hamming_distance() -> None:
    zero = "0" * 64
    ones = "f" * 64
    bank = parse_hashes([zero, ones, "8" + "0" * 63, "0" * 63 + "3"])
    assert brute_force(bank, zero, 256) == [(0, 0), (2, 1), (3, 2), (1, 256)]
    assert brute_force(bank, parse_hashes([ones])[0], 0) == [(1, 0)]
    index = PDQIndex()
    index.add([10, 11, 12, 13], [zero, ones, "8" + "0" * 63, "0" * 63 + "3"])
    assert index.search(zero, 256) == [(10, 0), (12, 1), (13, 2), (11, 256)]
    assert index.search(ones.upper(), 31) == [(11, 0)]


def test_a_crowded_chunk_value_is_exact() -> None:
    # 70 000 equal hashes: one chunk value holds more rows than 16-bit offsets can count.
    rng = np.random.default_rng(5)
    same = rng.integers(0, 256, 32, dtype=np.uint8)
    bank = np.concatenate(
        [np.repeat(same[None], 70_000, 0), rng.integers(0, 256, (500, 32), np.uint8)]
    )
    index = PDQIndex()
    index.add_codes(np.arange(bank.shape[0]), bank)
    assert index._segments[0].rel is not None and index._segments[0].rel.dtype == np.uint32
    query = _flip(rng, same, 3)
    assert index.search_codes(query[None], 31)[0] == brute_force(bank, query, 31)
    assert len(index.search_codes(query[None], 2)[0]) == 0


# -- incremental add, remove, replace --------------------------------------------------------


def test_incremental_adds_equal_a_single_build() -> None:
    bank, queries = _bank(seed=4)
    hexes = format_hashes(bank)
    single = _built(bank)
    index = PDQIndex()
    at = 0
    for size in (1, 10, 100, 3000, 1500, 200, 1, 500, 88):
        index.add(list(range(at, at + size)), hexes[at : at + size])
        at += size
    assert at == bank.shape[0] == len(index)
    assert len(index._segments) < 6  # merged as it grew, not one segment an add
    qhex = format_hashes(queries)
    for d in (0, 15, 31):
        assert index.search_many(qhex, d) == single.search_many(qhex, d)
        assert index.search_many(qhex, d) == [brute_force(bank, q, d) for q in queries]


def test_removed_ids_are_never_returned() -> None:
    bank, queries = _bank(seed=6)
    index = _built(bank)
    qhex = format_hashes(queries)
    before = index.search_many(qhex, 31)
    found = sorted({i for r in before for i, _ in r})
    gone = set(found[::2]) | {0}
    assert index.remove([*gone, 10**12]) == len(gone)  # an unknown id is ignored
    assert len(index) == bank.shape[0] - len(gone)
    after = index.search_many(qhex, 31)
    assert after == [[(i, d) for i, d in r if i not in gone] for r in before]
    assert index.remove(gone) == 0
    # Adding after a remove merges segments and drops the dead rows, still exact.
    extra = _bank(seed=7, n_random=4000)[0]
    base = 10**6
    index.add(list(range(base, base + extra.shape[0])), format_hashes(extra))
    assert len(index._segments) == 1
    both = np.concatenate([bank, extra])
    ids = [*range(bank.shape[0]), *range(base, base + extra.shape[0])]
    truth = [
        sorted(
            ((ids[row], d) for row, d in brute_force(both, q, 31) if ids[row] not in gone),
            key=lambda p: (p[1], p[0]),
        )
        for q in queries
    ]
    assert index.search_many(qhex, 31) == truth


def test_adding_an_id_again_replaces_its_hash() -> None:
    index = PDQIndex()
    a, b = "a" * 64, "5" * 64
    index.add([1, 2], [a, b])
    index.add([1], [b])
    assert len(index) == 2
    assert index.search(a, 0) == []
    assert index.search(b, 0) == [(1, 0), (2, 0)]
    index.remove([1])
    index.add([1], [a])
    assert index.search(a, 0) == [(1, 0)]
    assert index.search(b, 0) == [(2, 0)]


# -- persistence, edge cases -----------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    bank, queries = _bank(seed=8)
    index = _built(bank[:3000])
    index.add(list(range(3000, bank.shape[0])), format_hashes(bank[3000:]))
    index.remove([5, 6, 7])
    qhex = format_hashes(queries)
    expected = index.search_many(qhex, 31)
    path = tmp_path / "bank.pdqidx"
    index.save(path)
    index.save(path)  # over an existing index
    loaded = PDQIndex.load(path)
    assert len(loaded) == len(index)
    assert loaded.search_many(qhex, 31) == expected
    assert loaded.search_many(qhex, 5) == index.search_many(qhex, 5)
    # A loaded (memory-mapped) index still takes removals and additions.
    loaded.remove([0])
    loaded.add([99_999], [qhex[0]])
    assert loaded.search(qhex[0], 0) == [(99_999, 0)]
    assert all(i != 0 for r in loaded.search_many(qhex, 31) for i, _ in r)
    assert PDQIndex.load(path, mmap=False).search_many(qhex, 31) == expected
    with pytest.raises((ValueError, FileNotFoundError)):
        PDQIndex.load(tmp_path / "missing")


def test_empty_index(tmp_path: Path) -> None:
    index = PDQIndex()
    assert len(index) == 0
    assert index.search("0" * 64) == []
    assert index.search_many([]) == []
    assert index.search_many(["0" * 64, "f" * 64], 31) == [[], []]
    index.add([], [])
    assert index.remove([1, 2]) == 0
    index.save(tmp_path / "empty")
    assert len(PDQIndex.load(tmp_path / "empty")) == 0
    assert brute_force(np.zeros((0, 32), np.uint8), "0" * 64, 31) == []


@pytest.mark.parametrize(
    "bad",
    ["", "0" * 63, "0" * 65, "g" * 64, " " + "0" * 63, "0" * 31 + " " + "0" * 32, "0x" + "0" * 62],
)
def test_invalid_hashes_are_refused(bad: str) -> None:
    index = PDQIndex()
    index.add([1], ["0" * 64])
    with pytest.raises(ValueError, match="not a PDQ hash"):
        index.add([2], [bad])
    with pytest.raises(ValueError, match="not a PDQ hash"):
        index.add([2, 3], ["1" * 64, bad])
    with pytest.raises(ValueError, match="not a PDQ hash"):
        index.search(bad)
    with pytest.raises(ValueError, match="not a PDQ hash"):
        index.search_many(["0" * 64, bad])
    assert len(index) == 1


def test_bad_calls_are_refused() -> None:
    index = PDQIndex()
    with pytest.raises(ValueError):
        index.add([1, 2], ["0" * 64])
    with pytest.raises(ValueError):
        index.add([1, 1], ["0" * 64, "1" * 64])
    with pytest.raises(ValueError):
        index.add([2**70], ["0" * 64])
    with pytest.raises(ValueError):
        index.search("0" * 64, -1)
    with pytest.raises(ValueError):
        index.search("0" * 64, 257)
    with pytest.raises(TypeError):
        index.search("0" * 64, 3.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a PDQ hash"):
        index.add([1], [b"0" * 64])  # type: ignore[list-item]
    assert len(index) == 0


def test_bench_smoke() -> None:
    result = pdq_bench.run(bank=6000, queries=60)
    assert result["recall"] == 1.0
    assert result["false_results"] == 0
    assert result["brute_checked"] == 60
    assert result["matches"] >= result["near_queries"] > 0
    assert {
        "bank",
        "queries",
        "build_s",
        "qps",
        "brute_qps",
        "rss_mb",
        "max_distance",
        "index",
    } <= set(result)
    assert result["max_distance"] == 31
