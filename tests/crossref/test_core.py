"""Cross-reference's pure logic: shingles, MinHash bands, joining a value's carriers,
components, paths, and pairwise scores."""

from __future__ import annotations

import pytest

from tipline.crossref import core

TEMPLATE = (
    "New in {city}! {name}, {age}, sweet and discreet, available day and night for polite "
    "gentlemen. Calm and clean flat near the station, hotel visits possible. Real photos, "
    "no bad surprise. {price} roses the half hour. Call me on {phone}, no hidden numbers."
)


def test_numbers_are_masked_so_template_ads_compare_equal_but_words_count() -> None:
    a = core.text_shingles(
        TEMPLATE.format(city="Lyon", name="Lina", age=22, price=150, phone="01 99 00 11 11")
    )
    b = core.text_shingles(
        TEMPLATE.format(city="Lyon", name="Lina", age=24, price=200, phone="02 61 91 22 22")
    )
    assert a == b
    c = core.text_shingles(TEMPLATE.format(city="Lille", name="Nora", age=22, price=150, phone="x"))
    assert 0.6 <= core.jaccard(a, c) < 1
    assert core.text_bands("please check this") is None  # too short to say anything


def test_band_keys_are_stable_and_similar_texts_share_bands() -> None:
    a = TEMPLATE.format(city="Lyon", name="Lina", age=22, price=150, phone="1")
    b = TEMPLATE.format(city="Lille", name="Nora", age=24, price=200, phone="2")
    unrelated = "Massage relaxant dans mon studio, douche disponible, parking facile, pas de SMS."
    ka, kb, ku = (core.text_bands(t)[1] for t in (a, b, unrelated))  # type: ignore[index]
    assert ka == core.text_bands(a)[1]  # type: ignore[index]
    assert len(ka) == core.BANDS and len(set(ka)) == core.BANDS
    assert len(set(ka) & set(kb)) >= 2
    assert not set(ka) & set(ku)


def never_apart(a: int, b: int) -> bool:
    return False


def test_a_value_s_carriers_are_joined_each_to_the_first_one() -> None:
    assert core.value_links([5, 3, 9], active=[], cut=[], apart=never_apart) == [(3, 5), (3, 9)]
    # Already joined: nothing to add; a new carrier joins the first.
    assert core.value_links([3, 5, 9, 12], active=[(3, 5), (3, 9)], cut=[], apart=never_apart) == [
        (3, 12)
    ]
    assert core.value_links([7], active=[], cut=[], apart=never_apart) == []


def test_items_of_one_report_are_joined_through_another_carrier() -> None:
    def apart(a: int, b: int) -> bool:
        return {a, b} == {1, 2}

    assert core.value_links([1, 2], active=[], cut=[], apart=apart) == []
    links = core.value_links([1, 2, 3], active=[], cut=[], apart=apart)
    assert len(links) == 2 and (1, 2) not in links
    assert core.components([1, 2, 3], links) == [[1, 2, 3]]


def test_the_newer_item_of_a_cut_link_is_not_linked_through_the_value_again() -> None:
    links = core.value_links([1, 2, 3, 4], active=[(1, 3)], cut=[(1, 2)], apart=never_apart)
    assert links == [(1, 4)]
    assert all(2 not in pair for pair in links)


@pytest.mark.parametrize("order", [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [3, 1, 5, 2, 4]])
def test_joined_carriers_form_the_same_component_whatever_the_arrival_order(order) -> None:  # type: ignore[no-untyped-def]
    active: list[tuple[int, int]] = []
    seen: list[int] = []
    for item in order:
        seen.append(item)
        active += core.value_links(seen, active=active, cut=[], apart=never_apart)
    assert core.components(order, active) == [[1, 2, 3, 4, 5]]
    assert len(active) == 4  # one link per carrier but the first


def test_components_largest_first_and_a_cycle_is_one_component() -> None:
    parts = core.components([1, 2, 3, 4, 5, 6], [(1, 2), (2, 3), (3, 1), (5, 6)])
    assert parts == [[1, 2, 3], [5, 6], [4]]


def test_the_shortest_path_gives_each_link_and_none_when_apart() -> None:
    edges = [(1, 2, 10), (2, 3, 11), (3, 4, 12), (1, 4, 13), (5, 6, 14)]
    assert core.shortest_path(1, 3, edges) in ([(1, 2, 10), (2, 3, 11)], [(1, 4, 13), (4, 3, 12)])
    assert core.shortest_path(1, 4, edges) == [(1, 4, 13)]
    assert core.shortest_path(1, 5, edges) is None
    assert core.shortest_path(2, 2, edges) == []


def test_pairwise_scores_count_pairs_not_networks() -> None:
    truth = {1: "a", 2: "a", 3: "a", 4: "b", 5: "b", 6: None}
    perfect = core.pairwise_scores(truth, {1: 1, 2: 1, 3: 1, 4: 2, 5: 2})
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    merged = core.pairwise_scores(truth, {i: 1 for i in range(1, 7)})
    assert merged.recall == 1.0 and merged.precision == pytest.approx(4 / 15)
    split = core.pairwise_scores(truth, {1: 1, 2: 1, 4: 2, 5: 2})
    assert split.precision == 1.0 and split.recall == pytest.approx(2 / 4)
