"""The queue and item pages cost the same number of queries however many items and
reports the database holds (NetBox's habit: query counts asserted, not hoped for)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tipline.console import services
from tipline.crossref.models import Link
from tipline.harmonize.models import Item
from tipline.ops import scale

from ..conftest import staff_user

pytestmark = pytest.mark.django_db


def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


def busiest() -> tuple[int, int]:
    """The page with the most reports, and the item with the most links."""
    page = Item.objects.filter(kind="url").order_by("-report_count", "id").first()
    hub = Link.objects.values("item_a").annotate(n=Count("id")).order_by("-n", "item_a").first()
    assert page is not None and hub is not None
    return page.id, hub["item_a"]


def costs(client: Client, ana: Any) -> dict[str, int]:
    waiting = Item.objects.filter(needs_assessment=True).order_by("-id")
    for item_id in waiting.values_list("id", flat=True)[:3]:
        services.item_claim(item_id=item_id, user=ana)
    page, hub = busiest()
    paths = {
        "queue": "/console/",
        "theme": "/console/?theme=trafficking",
        "channel": "/console/?channel=public",
        "mine": "/console/?mine=1",
        "page": f"/console/items/{page}/",
        "hub": f"/console/items/{hub}/",
    }
    queries(client, "/console/")  # the first request of a session costs a few more
    return {name: queries(client, path) for name, path in paths.items()}


def test_query_counts_do_not_grow_with_the_items_and_reports(client: Client) -> None:
    scale.fill(items=300, seed=2, waiting_share=0.3)
    ana = staff_user("ana")
    client.force_login(ana)
    small = costs(client, ana)
    before = busiest()
    reports_before = Item.objects.get(id=before[0]).report_count

    scale.fill(items=2000, seed=5, waiting_share=0.3)
    large = costs(client, ana)
    page, hub = busiest()
    # The second fill made a queue longer than a page, a busier page and a bigger hub.
    assert Item.objects.filter(needs_assessment=True).count() > 100
    assert Item.objects.get(id=page).report_count > reports_before
    assert Link.objects.filter(item_a=hub).count() > Link.objects.filter(item_a=before[1]).count()
    assert large == small
