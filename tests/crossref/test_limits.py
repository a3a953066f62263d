"""Bad input for cross-reference: a value on 100,000 items, an item with 10,000 values.
Nothing explodes: links stay bounded and the guard keeps each batch cheap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tipline.common.bulk import insert_rows
from tipline.crossref import services
from tipline.crossref.models import CommonValue, Link, Membership, Trace
from tipline.harmonize.models import Item

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def make_items(n: int, start: int = 0) -> list[int]:
    insert_rows(
        Item,
        [
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
        [
            (
                "url",
                f"{i:064x}",
                f"https://s{i}.example/",
                f"s{i}.example",
                "name",
                f"s{i}.example",
                "",
                "",
                "other",
                "",
                "",
                "unassessed",
                True,
                1,
                NOW,
                NOW,
                [],
                [],
                [],
            )
            for i in range(start, start + n)
        ],
    )
    return list(Item.objects.order_by("id").values_list("id", flat=True)[start : start + n])


def crossref(values: dict[int, list[tuple[str, str]]]) -> None:
    carried = services.Carried()
    for item_id, pairs in values.items():
        for kind, value in pairs:
            carried.add(item_id, kind, value)
    services.items_crossref(carried=carried)


def test_a_value_on_100000_items_links_only_until_it_is_common(settings) -> None:
    settings.CROSSREF_COMMON_AFTER = 50
    ids = make_items(100_000)
    phone = ("shared_phone", "+33199000000")
    with CaptureQueriesContext(connection) as first:
        crossref({i: [phone] for i in ids[:40]})
    # One link per carrier, to the first one: 39 links join 40 items.
    assert Link.objects.filter(state="active").count() == 39
    for start in range(40, 100_000, 5_000):
        batch = ids[start : start + 5_000]
        with CaptureQueriesContext(connection) as later:
            crossref({i: [phone] for i in batch})
        # The value is common: a batch costs a few queries, none reading its 100,000 carriers.
        assert len(later) < 40
        assert all(
            "crossref_trace" not in q["sql"] or "IN" in q["sql"] for q in later.captured_queries
        )
    assert Trace.objects.filter(kind="shared_phone").count() == 100_000
    common = CommonValue.objects.get(value=phone[1])
    assert common.item_count == 5_040
    assert not Link.objects.filter(state="active").exists()
    assert Link.objects.filter(state="withdrawn").count() == 39
    assert not Membership.objects.exists()
    assert len(first) < 60


def test_an_item_with_10000_values_links_what_it_shares_and_keeps_each_reason() -> None:
    big, *others = make_items(101)
    values = [("shared_phone", f"+3319900{n:04d}") for n in range(10_000)]
    crossref({big: values})
    # A hundred items each share one of its values.
    crossref({item: [values[n * 97]] for n, item in enumerate(others)})
    links = Link.objects.filter(state="active")
    assert links.count() == 100
    assert {(link.item_a_id, link.item_b_id) for link in links} == {(big, o) for o in others}
    assert {link.value for link in links} == {values[n * 97][1] for n in range(100)}
    assert Membership.objects.filter(network__memberships__item_id=big).count() == 101
