"""The network page (graph data as JSON beside the same data as tables) and search by
value."""

from __future__ import annotations

import pytest
from django.test import Client

from tipline.crossref.models import Membership

from ..conftest import staff_user
from ..orient.conftest import report_page

pytestmark = pytest.mark.django_db


def two_linked() -> tuple[int, int, int]:
    a = report_page("https://net-a.example/1", excerpt="appelez le 02 61 91 40 40 ce soir")
    b = report_page("https://net-b.example/2", excerpt="nouvelle, 02 61 91 40 40, hotel")
    network = Membership.objects.get(item=a).network_id
    assert Membership.objects.get(item=b).network_id == network
    return a.id, b.id, network


def signed_in(role: str = "analyst") -> Client:
    client = Client()
    client.force_login(staff_user(f"u-{role}", role))
    return client


def test_the_network_page_shows_items_and_links_and_serves_its_graph() -> None:
    a, b, network = two_linked()
    client = signed_in()
    html = client.get(f"/console/networks/{network}/").content.decode()
    assert f'href="/console/items/{a}/"' in html and f'href="/console/items/{b}/"' in html
    assert "shared_phone" in html and "+33261914040" in html
    assert f'data-src="/console/networks/{network}/graph.json"' in html
    assert "/static/xstatic/d3/d3.js" in html  # served locally, never a CDN
    graph = client.get(f"/console/networks/{network}/graph.json").json()
    ids = {n["id"]: n["type"] for n in graph["nodes"]}
    assert ids == {f"item:{a}": "item", f"item:{b}": "item", "shared_phone:+33261914040": "value"}
    assert sorted((e["source"], e["target"]) for e in graph["edges"]) == [
        (f"item:{a}", "shared_phone:+33261914040"),
        (f"item:{b}", "shared_phone:+33261914040"),
    ]
    assert client.get("/static/xstatic/d3/d3.js").status_code == 200
    assert client.get("/console/networks/999999/").status_code == 404
    assert signed_in("liaison").get(f"/console/networks/{network}/").status_code == 403


def test_search_by_phone_in_any_format_finds_the_items_and_their_network() -> None:
    a, b, network = two_linked()
    assert a != b
    client = signed_in()
    html = client.get("/console/search/", {"type": "phone", "value": "02.61.91.40.40"}).content
    page = html.decode()
    assert "2 items carry" in page
    assert f'href="/console/networks/{network}/"' in page
    bad = client.get("/console/search/", {"type": "colour", "value": "red"}).content.decode()
    assert 'role="alert"' in bad
