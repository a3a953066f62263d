"""The item page: what an analyst needs on one item, reporters' details only for senior
roles, indicators marked in the text, the assessment form, the view recorded."""

from __future__ import annotations

import pytest
from django.test import Client

from tipline.common.models import AuditRecord
from tipline.console.selectors import highlighted
from tipline.harmonize.models import Item
from tipline.intake import core, services

from ..conftest import drain, staff_user
from ..orient.conftest import hosted

pytestmark = pytest.mark.django_db

AD = "she is 15 and available tonight, hotel incall, call 01 99 00 12 35"


def reported() -> Item:
    draft = core.parse_report(
        {
            "urls": ["https://item-page.example/ad/1"],
            "excerpt": AD,
            "category": "trafficking",
            "reporter": {"name": "Camille Example", "email": "camille@mail.example"},
        },
        max_media_bytes=1024,
    )
    [outcome] = services.reports_receive(drafts=[(0, draft)], channel="public")  # type: ignore[arg-type]
    drain()
    return Item.objects.get(report_links__report_id=outcome.report_id)  # type: ignore[union-attr]


def signed_in(role: str, name: str) -> Client:
    client = Client()
    client.force_login(staff_user(name, role))
    return client


def test_an_analyst_sees_the_item_with_its_indicators_marked_but_not_the_reporter() -> None:
    item = reported()
    hosted("item-page.example", "FR", "abuse@item-page.example")
    page = signed_in("analyst", "ana").get(f"/console/items/{item.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark" in html and "data-indicator=" in html
    assert "+33199001235" in html  # the phone, as an observable
    assert "Rule &quot;p1-escalate&quot;" in html and "Rule &quot;hosted-at-home&quot;" in html
    assert "abuse@item-page.example" in html
    assert "camille@mail.example" not in html and "Camille Example" not in html
    assert AuditRecord.objects.filter(actor="ana", action="item.view", target=f"item:{item.id}")


def test_a_senior_analyst_sees_the_reporter() -> None:
    item = reported()
    html = signed_in("senior_analyst", "sen").get(f"/console/items/{item.id}/").content.decode()
    assert "camille@mail.example" in html


def test_assessing_from_the_page_routes_the_item_again() -> None:
    item = reported()
    hosted("item-page.example", "FR", "abuse@item-page.example")
    client = signed_in("analyst", "ana")
    done = client.post(
        f"/console/items/{item.id}/", {"theme": "trafficking", "classification": "national"}
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.classification, item.needs_assessment) == ("national", False)
    bad = client.post(f"/console/items/{item.id}/", {"theme": "x", "classification": "y"})
    assert bad.status_code == 422
    assert signed_in("liaison", "lia").get(f"/console/items/{item.id}/").status_code == 403
    assert client.get("/console/items/999999/").status_code == 404


def test_indicator_spans_are_cut_out_of_the_text() -> None:
    assert highlighted("ab cd ef", [(3, 5, "x"), (4, 6, "overlap"), (0, 2, "y")]) == [
        ("ab", "y"),
        (" ", ""),
        ("cd", "x"),
        (" ef", ""),
    ]
    assert highlighted("", []) == []
    assert highlighted("abc", [(1, 9, "out of range")]) == [("abc", "")]


def test_the_console_speaks_the_language_each_person_chose() -> None:
    from tipline.console.models import Preference

    client = signed_in("analyst", "ana")
    assert "Items waiting for an assessment" in client.get("/console/").content.decode()
    switched = client.post("/console/language/", {"language": "fr", "next": "/console/"})
    assert switched.status_code == 302 and switched["Location"] == "/console/"
    page = client.get("/console/").content.decode()
    assert 'lang="fr"' in page and "Éléments en attente de qualification" in page
    assert Preference.objects.get(user__username="ana").language == "fr"
    # Another person still reads English; a later sign-in of the same person, French.
    assert "Items waiting" in signed_in("analyst", "bob").get("/console/").content.decode()
    again = Client()
    again.force_login(Preference.objects.get(user__username="ana").user)
    assert "Éléments en attente" in again.get("/console/").content.decode()
    refused = client.post("/console/language/", {"language": "de"})
    assert refused.status_code == 422
    assert AuditRecord.objects.filter(actor="ana", action="setting.language").count() == 1
