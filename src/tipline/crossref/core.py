"""Cross-reference's pure logic: what links two items, how near two ad texts are, the
connected parts of a link graph and the path between two items. No Django here."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from itertools import pairwise

import numpy as np
from datasketch import MinHash


class LinkKind(StrEnum):
    SHARED_PHONE = "shared_phone"
    SHARED_EMAIL = "shared_email"
    SHARED_HANDLE = "shared_handle"
    SHARED_WALLET = "shared_wallet"
    SHARED_DOMAIN = "shared_domain"
    SAME_IMAGE = "same_image"
    SIMILAR_IMAGE = "similar_image"
    SIMILAR_TEXT = "similar_text"


# Observable types (Analyze's vocabulary) that link items when two items carry the same value.
KIND_OF_OBSERVABLE: Mapping[str, LinkKind] = {
    "phone": LinkKind.SHARED_PHONE,
    "email": LinkKind.SHARED_EMAIL,
    "handle": LinkKind.SHARED_HANDLE,
    "crypto": LinkKind.SHARED_WALLET,
    "domain": LinkKind.SHARED_DOMAIN,
}
# The names people search by, for each kind carried as a value.
SEARCH_TYPES: Mapping[str, LinkKind] = {
    "phone": LinkKind.SHARED_PHONE,
    "email": LinkKind.SHARED_EMAIL,
    "handle": LinkKind.SHARED_HANDLE,
    "wallet": LinkKind.SHARED_WALLET,
    "crypto": LinkKind.SHARED_WALLET,
    "domain": LinkKind.SHARED_DOMAIN,
    "image": LinkKind.SAME_IMAGE,
}
VALUE_KINDS = frozenset(KIND_OF_OBSERVABLE.values()) | {LinkKind.SAME_IMAGE}
# A page's own registrable domain. Pages hosted on one site are not linked for it (a
# classifieds site hosts everyone's ads); a page is linked to items that *name* its domain.
HOSTED_ON = "hosted_on"
MAX_VALUE_CHARS = 255  # longer values (never a phone or an e-mail) are not correlated

# --- Similar texts -------------------------------------------------------------------------

NUM_PERM = 128
BANDS = 32  # 32 bands of 4 rows: a pair at Jaccard 0.6 shares a band with p = 0.988
ROWS = NUM_PERM // BANDS
MIN_SHINGLES = 6  # shorter texts ("please check this") say nothing about who wrote them

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


def text_shingles(text: str) -> frozenset[str]:
    """Word bigrams of a text, case and compatibility forms folded and every number masked:
    template ads differ by their phone, price and age, which must not make them different."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = [_DIGITS.sub("#", w) for w in _WORD.findall(folded)]
    if len(words) < 2:
        return frozenset(words)
    return frozenset(f"{a} {b}" for a, b in pairwise(words))


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


@cache
def _permutations() -> np.ndarray:
    return MinHash(num_perm=NUM_PERM, seed=1).permutations


def minhash(shingles: Iterable[str]) -> np.ndarray:
    m = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme="affine32")
    m.update_batch([s.encode("utf-8", "surrogatepass") for s in shingles])
    return m.hashvalues


def band_keys(signature: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band; the band's number is hashed in, so one indexed
    column finds the candidates of every band."""
    values = np.ascontiguousarray(signature, dtype=np.uint32)
    keys = []
    for band in range(BANDS):
        h = hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8)
        h.update(band.to_bytes(2, "little"))
        keys.append(int.from_bytes(h.digest(), "little", signed=True))
    return keys


def text_bands(text: str) -> tuple[frozenset[str], list[int]] | None:
    """A text's shingles and band keys, or None when it is too short to compare."""
    shingles = text_shingles(text)
    if len(shingles) < MIN_SHINGLES:
        return None
    return shingles, band_keys(minhash(sorted(shingles)))


# --- Values --------------------------------------------------------------------------------


def normalized_value(kind: str, value: str) -> str:
    """A value as it is compared: e-mails, domains and handles are case-insensitive."""
    value = value.strip()
    if kind in (LinkKind.SHARED_EMAIL, LinkKind.SHARED_DOMAIN, LinkKind.SHARED_HANDLE, HOSTED_ON):
        value = value.casefold()
        # Trailing dots and spaces in any order ("a.example\r."): strip until stable, so
        # that a normalized value normalizes to itself.
        while (trimmed := value.rstrip(".").strip()) != value:
            value = trimmed
    return value


def values_by_kind(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(kind, value) pairs grouped as kind → sorted values, for one lookup per kind."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        grouped[kind].append(value)
    return {kind: sorted(values) for kind, values in grouped.items()}


def value_links(
    members: Iterable[int],
    active: Iterable[tuple[int, int]],
    cut: Iterable[tuple[int, int]],
    apart: Callable[[int, int], bool],
) -> list[tuple[int, int]]:
    """The new links that join every carrier of one value, each carrier to the earliest one
    it may be linked to: one link per carrier, not one per pair, so a value carried by
    fifty items costs fifty links, and the networks are those every pair would make.

    `active` are the value's links already made; a carrier at the newer end of a `cut` link
    is never linked through this value again (an analyst detached it); `apart(a, b)` says
    two carriers must not be linked (items of one report: the report already groups them).
    """
    detached = {max(a, b) for a, b in cut}
    nodes = sorted(set(members) - detached)
    sets = DisjointSets()
    for n in nodes:
        sets.find(n)
    parts = len(nodes)
    for a, b in active:
        if a in sets.parent and b in sets.parent and sets.union(a, b):
            parts -= 1
    made: list[tuple[int, int]] = []
    for x in nodes:
        if parts <= 1:
            break
        for c in nodes:
            if parts <= 1:
                break
            if c != x and sets.find(c) != sets.find(x) and not apart(x, c):
                sets.union(x, c)
                parts -= 1
                made.append((min(x, c), max(x, c)))
    return sorted(made)


# --- Graphs --------------------------------------------------------------------------------


class DisjointSets:
    """Union-find over hashable nodes, with path halving and union by size."""

    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}
        self.size: dict[Hashable, int] = {}

    def find(self, x: Hashable) -> Hashable:
        parent = self.parent
        if x not in parent:
            parent[x] = x
            self.size[x] = 1
            return x
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: Hashable, b: Hashable) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return True


def components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected parts of a graph, largest first (ties: lowest node first), nodes sorted."""
    sets = DisjointSets()
    for n in nodes:
        sets.find(n)
    for a, b in edges:
        sets.union(a, b)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for node in list(sets.parent):
        groups[sets.find(node)].append(node)  # type: ignore[arg-type]
    parts = [sorted(g) for g in groups.values()]
    parts.sort(key=lambda g: (-len(g), g[0]))
    return parts


def shortest_path(
    start: int, goal: int, edges: Iterable[tuple[int, int, int]]
) -> list[tuple[int, int, int]] | None:
    """The fewest links from start to goal, as (from item, to item, link id) steps; None
    when they are not connected. `edges` are (item, item, link id), either direction."""
    if start == goal:
        return []
    graph: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b, link in edges:
        graph[a].append((b, link))
        graph[b].append((a, link))
    for adjacent in graph.values():
        adjacent.sort()
    came: dict[int, tuple[int, int]] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for nxt, link in graph.get(node, ()):
            if nxt in seen:
                continue
            seen.add(nxt)
            came[nxt] = (node, link)
            if nxt == goal:
                steps = []
                while nxt != start:
                    prev, via = came[nxt]
                    steps.append((prev, nxt, via))
                    nxt = prev
                return steps[::-1]
            queue.append(nxt)
    return None


# --- Measuring networks against ground truth ------------------------------------------------


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    true_pairs: int
    found_pairs: int
    common_pairs: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(truth: Mapping[int, Hashable], found: Mapping[int, Hashable]) -> PairScores:
    """Pairwise precision and recall of found networks against true ones, over the items of
    `truth`. An item absent from a mapping (or mapped to None) is alone."""
    true_sizes: dict[Hashable, int] = defaultdict(int)
    found_sizes: dict[Hashable, int] = defaultdict(int)
    both: dict[tuple[Hashable, Hashable], int] = defaultdict(int)
    for item, t in truth.items():
        f = found.get(item)
        if t is not None:
            true_sizes[t] += 1
        if f is not None:
            found_sizes[f] += 1
        if t is not None and f is not None:
            both[(t, f)] += 1
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    found_pairs = sum(_pairs(n) for n in found_sizes.values())
    common = sum(_pairs(n) for n in both.values())
    return PairScores(
        precision=common / found_pairs if found_pairs else 1.0,
        recall=common / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        found_pairs=found_pairs,
        common_pairs=common,
    )
