"""The synthetic ad-network corpus: reproducible, shaped as documented, and true to its
ground truth — connected networks, phones the analyzer reads back, pictures PDQ matches."""

from __future__ import annotations

import base64
import collections
import itertools
import random
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import phonenumbers
import pytest

from tipline.analyze.observables import extract
from tipline.harmonize.media import (
    PDQ_MATCH_THRESHOLD,
    PDQ_QUALITY_FLOOR,
    pdq_distance,
    pdq_hash,
)
from tipline.intake.core import parse_report
from tipline.ops import demo
from tipline.ops.demo import CATEGORIES, COUNTRIES, DemoImage, DemoReport, generate

REPORTS = 5_000
FICTIONAL = re.compile(
    r"\+33(?:19900|26191|35301|46571|53649|97740)\d{4}"  # 01 99 00 xx xx …
    r"|\+1[2-9]\d\d55501\d\d"  # NXX-555-0100 to 0199
    r"|\+44(?:2079460|1614960)\d{3}"  # 020 7946 0xxx, 0161 496 0xxx
)


@pytest.fixture(scope="module")
def corpus() -> list[DemoReport]:
    return list(generate(reports=REPORTS, seed=7))


def of_kind(corpus: Iterable[DemoReport], kind: str) -> list[DemoReport]:
    return [r for r in corpus if r.kind == kind]


def bigrams(text: str) -> set[tuple[str, str]]:
    words = re.findall(r"[\w#]+", re.sub(r"\d", "#", text.casefold()))
    return set(itertools.pairwise(words))


def jaccard(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return len(x & y) / len(x | y)


def owner(report: DemoReport) -> object:
    return report.network if report.network is not None else ("alone", report.index)


# --- Reproducible, shaped as documented ---------------------------------------------------


def test_same_arguments_same_corpus_another_seed_another() -> None:
    first = list(generate(reports=400, seed=3))
    assert first == list(generate(reports=400, seed=3))
    other = list(generate(reports=400, seed=4))
    assert [r.excerpt for r in other] != [r.excerpt for r in first]
    assert [r.network for r in other] != [r.network for r in first]


@pytest.mark.parametrize("reports", [0, 1, 2, 3, 4, 7, 16, 31])
def test_any_size_streams_every_index_once(reports: int) -> None:
    out = list(generate(reports=reports, seed=1))
    assert [r.index for r in out] == list(range(reports))
    sizes = collections.Counter(r.network for r in out if r.network is not None)
    assert all(size >= 2 for size in sizes.values())


def test_shares_and_networks_as_documented(corpus: list[DemoReport]) -> None:
    kinds = collections.Counter(r.kind for r in corpus)
    assert kinds == {"network_ad": 3_000, "unrelated_ad": 1_250, "noise": 750}
    sizes = collections.Counter(r.network for r in corpus if r.network is not None)
    assert len(sizes) == round(REPORTS / demo.REPORTS_PER_NETWORK)
    assert sorted(sizes) == list(range(len(sizes)))
    assert min(sizes.values()) == 2 and max(sizes.values()) <= 60
    small = sum(size <= 3 for size in sizes.values()) / len(sizes)
    large = sum(size >= 20 for size in sizes.values()) / len(sizes)
    assert small > 0.3 and 0.05 < large < 0.3  # many small, some large
    assert all((r.network is None) == (r.kind != "network_ad") for r in corpus)

    def image_share(kind: str) -> float:
        ads = of_kind(corpus, kind)
        return sum(r.image is not None for r in ads) / len(ads)

    assert 0.45 < image_share("network_ad") < 0.55
    assert 0.16 < image_share("unrelated_ad") < 0.24
    assert {r.category for r in corpus} == set(CATEGORIES)
    assert {r.reporter_country for r in corpus} == set(COUNTRIES)
    ads = [r for r in corpus if r.kind != "noise"]
    assert 0.5 < sum(r.description == "" for r in ads) / len(ads) < 0.8


def test_urls_are_unique_https_on_example_domains(corpus: list[DemoReport]) -> None:
    assert len({r.url for r in corpus}) == len(corpus)
    for r in corpus:
        parts = urlsplit(r.url)
        assert parts.scheme == "https" and parts.hostname is not None
        assert parts.hostname.endswith(".example") and str(r.index) in parts.path
    big = {domain for domain, _ in demo.BIG_SITES}
    hosts = collections.Counter(urlsplit(r.url).hostname for r in corpus)
    assert big <= set(hosts)
    own = {h for h in hosts if h not in big}
    assert own, "some network ads are posted on their network's own site"
    for r in corpus:
        host = urlsplit(r.url).hostname
        assert host in big or (r.kind == "network_ad" and f"domain:{host}" in r.signals)


def test_noise_carries_nothing_to_link(corpus: list[DemoReport]) -> None:
    for r in of_kind(corpus, "noise"):
        assert r.image is None and r.signals == () and r.description
        found = {o.type for o in extract(r.excerpt + "\n" + r.description)}
        assert not found & {"phone", "email", "handle"}


# --- Ground truth -------------------------------------------------------------------------


def test_every_phone_is_fictional(corpus: list[DemoReport]) -> None:
    """Both the truth and whatever the analyzer reads in any text, obfuscated or not."""
    truth = {s[len("phone:") :] for r in corpus for s in r.signals if s.startswith("phone:")}
    assert len(truth) > 1_500
    for e164 in truth:
        assert FICTIONAL.fullmatch(e164), e164
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164)), e164
    countries = {phonenumbers.region_code_for_number(phonenumbers.parse(e)) for e in truth}
    assert {"FR", "GB", "US", "CA"} <= countries
    read = set()
    for r in corpus:
        for o in extract(f"{r.excerpt}\n{r.description}", region="FR"):
            if o.type == "phone":
                read.add(o.value)
    assert read and all(FICTIONAL.fullmatch(value) for value in read), read - truth
    assert read <= truth


def test_the_north_american_and_uk_pools_are_all_valid() -> None:
    for area in demo._NA_AREAS:
        for line in ("0100", "0150", "0199"):
            number = phonenumbers.parse(f"+1{area}555{line}")
            assert phonenumbers.is_valid_number(number), (area, line)
    for block in demo._UK_BLOCKS:
        for tail in ("000", "500", "999"):
            assert phonenumbers.is_valid_number(phonenumbers.parse(f"+44{block}{tail}"))


def connected(ads: list[DemoReport]) -> bool:
    """Whether the ads form one component when any signal they share links them."""
    parent = list(range(len(ads)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, ad in enumerate(ads):
        for signal in ad.signals:
            j = first_with.setdefault(signal, i)
            parent[root(i)] = root(j)
    return len({root(i) for i in range(len(ads))}) == 1


def check_ground_truth(corpus: list[DemoReport]) -> None:
    owners: dict[str, set[object]] = collections.defaultdict(set)
    counts: collections.Counter[str] = collections.Counter()
    for r in corpus:
        for signal in r.signals:
            owners[signal].add(owner(r))
            counts[signal] += 1
    crossing = {s: o for s, o in owners.items() if len(o) > 1}
    assert not crossing, "a signal links reports outside one network"
    by_network = collections.defaultdict(list)
    for r in of_kind(corpus, "network_ad"):
        by_network[r.network].append(r)
        shared = [s for s in r.signals if counts[s] > 1]
        assert shared, f"ad {r.index} shares nothing with its network"
    for network, ads in by_network.items():
        assert connected(ads), f"network {network} falls apart"


def test_networks_are_connected_and_nothing_links_across(corpus: list[DemoReport]) -> None:
    check_ground_truth(corpus)
    for r in of_kind(corpus, "network_ad"):
        kinds = {s.split(":", 1)[0] for s in r.signals}
        assert {"phone", "template"} <= kinds


def test_spent_phone_pool_falls_back_to_unique_contacts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the fictional numbers, ads name a handle or e-mail of their own, never reuse."""
    monkeypatch.setattr(demo, "PHONE_POOL_SIZE", 120)
    corpus = list(generate(reports=3_000, seed=5))
    check_ground_truth(corpus)
    phones = {s for r in corpus for s in r.signals if s.startswith("phone:")}
    assert len(phones) <= 120
    assert all(r.signals for r in corpus if r.kind == "unrelated_ad")
    for r in of_kind(corpus, "unrelated_ad") + of_kind(corpus, "network_ad")[:300]:
        read = {f"{o.type}:{o.value}" for o in extract(r.excerpt)}
        contacts = {s for s in r.signals if s.split(":", 1)[0] in ("phone", "email", "handle")}
        assert contacts and contacts <= read, (r.signals, r.excerpt)


def test_template_siblings_read_alike_and_unrelated_ads_do_not(
    corpus: list[DemoReport],
) -> None:
    rng = random.Random(0)
    groups = collections.defaultdict(list)
    for r in corpus:
        for signal in r.signals:
            if signal.startswith("template:"):
                groups[signal].append(r)
    templates = [g for g in groups.values() if len(g) >= 2]
    siblings = [
        jaccard(*(ad.excerpt for ad in rng.sample(rng.choice(templates), 2))) for _ in range(500)
    ]
    assert sum(j >= 0.6 for j in siblings) >= 0.9 * len(siblings)
    unrelated = of_kind(corpus, "unrelated_ad")
    strangers = [jaccard(*(ad.excerpt for ad in rng.sample(unrelated, 2))) for _ in range(1_000)]
    assert sum(j < 0.6 for j in strangers) >= 0.99 * len(strangers)
    assert sum(strangers) / len(strangers) < 0.4


def test_the_analyzer_reads_each_ads_phone_and_contacts(corpus: list[DemoReport]) -> None:
    sample = random.Random(1).sample(of_kind(corpus, "network_ad"), 300)
    found = 0
    for r in sample:
        read = {f"{o.type}:{o.value}" for o in extract(r.excerpt, region="FR")}
        phone = next(s for s in r.signals if s.startswith("phone:"))
        found += phone in read
        assert {s for s in r.signals if s.startswith(("handle:", "email:"))} <= read
    assert found >= 0.95 * len(sample)


# --- Pictures and payloads ----------------------------------------------------------------


def test_pictures_are_reproducible_and_pdq_tells_them_apart(corpus: list[DemoReport]) -> None:
    pictures = sorted({r.image.picture for r in corpus if r.image is not None})[:4]
    originals = []
    for picture in pictures:
        original = DemoImage(picture).render()
        assert original == DemoImage(picture, 0).render()
        digest, quality = pdq_hash(original)
        assert quality >= PDQ_QUALITY_FLOOR
        originals.append(digest)
        for variant in (1, 2, 3):
            edited = DemoImage(picture, variant).render()
            assert edited != original
            assert pdq_distance(digest, pdq_hash(edited)[0]) <= PDQ_MATCH_THRESHOLD
    for a, b in itertools.combinations(originals, 2):
        assert pdq_distance(a, b) > PDQ_MATCH_THRESHOLD


def test_payloads_are_accepted_by_intake(corpus: list[DemoReport]) -> None:
    with_image = next(r for r in corpus if r.image is not None)
    body = with_image.payload()
    assert body["external_id"] == f"demo-{with_image.index}"
    assert body["urls"] == [with_image.url]
    assert body["reporter"] == {"country": with_image.reporter_country}
    assert with_image.image is not None
    media = body["media"]
    assert isinstance(media, list) and media[0]["filename"] == with_image.image.filename
    assert base64.b64decode(media[0]["content_base64"]) == with_image.image.render()
    draft = parse_report(body, max_media_bytes=1 << 20)
    assert draft.report.excerpt == with_image.excerpt and len(draft.media) == 1
    assert "media" not in with_image.payload(with_media=False)
    for kind in ("unrelated_ad", "noise"):
        parse_report(of_kind(corpus, kind)[0].payload(), max_media_bytes=1 << 20)


def test_a_network_is_active_for_a_stretch_of_the_stream_not_all_of_it() -> None:
    reports = 4_000
    positions: dict[int, list[int]] = {}
    for r in generate(reports=reports, seed=2, spread=0.1):
        if r.network is not None:
            positions.setdefault(r.network, []).append(r.index)
    # A window is a tenth of the stream; a network straddling two spans at most a fifth.
    assert all(max(p) - min(p) <= reports // 5 for p in positions.values())
    everywhere = {}
    for r in generate(reports=reports, seed=2, spread=1.0):
        if r.network is not None:
            everywhere.setdefault(r.network, []).append(r.index)
    assert max(max(p) - min(p) for p in everywhere.values()) > reports // 2
    with pytest.raises(ValueError, match="spread"):
        list(generate(reports=10, seed=1, spread=0))
