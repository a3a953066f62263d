"""The analysts' queue: P1 first then the oldest, SLA timers, filters, claims that lapse,
known content counted apart, assessed items gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tipline.analyze.models import ItemAnalysis
from tipline.console import services
from tipline.console.selectors import QueueFilters, queue_for_analyst
from tipline.crossref.models import Membership
from tipline.harmonize.models import Item
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.intake.services import staff_token_create
from tipline.orient import services as orient

from ..conftest import staff_user
from ..orient.conftest import hosted, report_page

pytestmark = pytest.mark.django_db

P1 = "she is 15 and available tonight, hotel incall, call 01 99 00 12 35"
PLAIN = "bonjour, belle annonce, appelez le 02 61 91 22 33"


def age(item: Item, hours: float) -> None:
    Item.objects.filter(id=item.id).update(
        first_reported_at=timezone.now() - timedelta(hours=hours)
    )


def ids(result: dict[str, Any]) -> list[int]:
    return [e["item_id"] for e in result["items"]]


def test_p1_first_then_the_oldest_with_sla_timers(settings) -> None:
    ana = staff_user("ana")
    old = report_page("https://q-old.example/1", excerpt=PLAIN)
    new = report_page("https://q-new.example/2", excerpt=PLAIN)
    urgent = report_page("https://q-p1.example/3", excerpt=P1)
    age(old, 200)  # P4: 7 days to assess, overdue after 168 h
    age(new, 1)
    age(urgent, 0.5)
    result = queue_for_analyst(user=ana, filters=QueueFilters())
    assert ids(result) == [urgent.id, old.id, new.id]
    first, second, third = result["items"]
    assert first["priority"] == "P1" and not first["overdue"]
    assert 1700 < first["sla_seconds_left"] <= 1800  # 1 h minus the half hour waited
    assert second["overdue"] and second["sla_seconds_left"] < 0
    assert third["priority"] == "P4" and not third["overdue"]
    settings.CONSOLE_SLA_S = {**settings.CONSOLE_SLA_S, "P1": 600.0}
    again = queue_for_analyst(user=ana, filters=QueueFilters())
    assert again["items"][0]["overdue"]


def test_filters_narrow_the_queue() -> None:
    ana = staff_user("ana")
    a = report_page("https://f-a.example/1", excerpt=PLAIN, category="trafficking")
    b = report_page("https://f-b.example/2", excerpt="appelez le 03 53 01 77 88", category="fraud")
    hosted("f-a.example", "DE", "")
    assert ids(queue_for_analyst(user=ana, filters=QueueFilters(theme="fraud"))) == [b.id]
    assert ids(queue_for_analyst(user=ana, filters=QueueFilters(country="de"))) == [a.id]
    assert sorted(ids(queue_for_analyst(user=ana, filters=QueueFilters(channel="public")))) == [
        a.id,
        b.id,
    ]
    assert ids(queue_for_analyst(user=ana, filters=QueueFilters(channel="provider"))) == []
    assert ids(queue_for_analyst(user=ana, filters=QueueFilters(priority="P1"))) == []
    c = report_page("https://f-c.example/3", excerpt=PLAIN, category="trafficking")  # a's phone
    network = Membership.objects.get(item=a).network_id
    in_network = ids(queue_for_analyst(user=ana, filters=QueueFilters(network=network)))
    assert sorted(in_network) == sorted([a.id, c.id])
    services.item_claim(item_id=a.id, user=ana)
    assert ids(queue_for_analyst(user=ana, filters=QueueFilters(mine=True))) == [a.id]


def test_a_claim_keeps_others_off_until_released_or_lapsed(settings) -> None:
    ana, bob = staff_user("ana"), staff_user("bob")
    item = report_page("https://claim.example/1", excerpt=PLAIN)
    services.item_claim(item_id=item.id, user=ana)
    with pytest.raises(services.ClaimRefused, match="claimed by ana until"):
        services.item_claim(item_id=item.id, user=bob)
    with pytest.raises(services.ClaimRefused, match="claimed by someone else"):
        services.item_release(item_id=item.id, user=bob)
    [entry] = queue_for_analyst(user=bob, filters=QueueFilters())["items"]
    assert (entry["claimed_by"], entry["claimed_by_me"]) == ("ana", False)
    # Ana went home: the claim lapses and Bob takes it.
    from tipline.console.models import Claim

    Claim.objects.filter(item=item).update(expires_at=timezone.now() - timedelta(seconds=1))
    [entry] = queue_for_analyst(user=bob, filters=QueueFilters())["items"]
    assert entry["claimed_by"] is None
    claim = services.item_claim(item_id=item.id, user=bob)
    assert claim.user_id == bob.pk
    services.item_release(item_id=item.id, user=bob)
    assert not Claim.objects.exists()
    with pytest.raises(services.ClaimRefused, match="there is no item 999999"):
        services.item_claim(item_id=999999, user=bob)


def test_assessed_items_leave_and_known_content_is_counted_apart() -> None:
    ana = staff_user("ana")
    item = report_page("https://done.example/1", excerpt=PLAIN)
    known = report_page("https://known-q.example/1", excerpt=PLAIN)
    ItemAnalysis.objects.update_or_create(
        item=known, defaults={"known_content": True, "updated_at": known.last_reported_at}
    )
    hosted("known-q.example", "FR", "abuse@known-q.example")
    result = queue_for_analyst(user=ana, filters=QueueFilters())
    assert result["known_auto_handled_today"] == 1
    orient.item_classify(
        item_id=item.id, theme=Theme.TRAFFICKING, classification=Classification.NATIONAL, user=ana
    )
    assert item.id not in ids(queue_for_analyst(user=ana, filters=QueueFilters()))


def test_the_queue_and_claims_over_the_api() -> None:
    ana, bob = staff_user("ana"), staff_user("bob")
    clients = {}
    for user in (ana, bob):
        _, token = staff_token_create(user=user, name="q", scopes=["analyst"])
        clients[user.username] = Client(headers={"Authorization": f"Bearer {token}"})
    item = report_page("https://api-q.example/1", excerpt=PLAIN)
    body = clients["ana"].get("/api/v1/queue?limit=10").json()
    assert body["total"] == 1 and body["items"][0]["item_id"] == item.id
    assert clients["ana"].post(f"/api/v1/items/{item.id}/claim").status_code == 200
    taken = clients["bob"].post(f"/api/v1/items/{item.id}/claim")
    assert taken.status_code == 409
    assert "claimed by ana" in taken.json()["detail"]
    mine = clients["ana"].get("/api/v1/queue?mine=true").json()
    assert [e["item_id"] for e in mine["items"]] == [item.id]
    assert mine["items"][0]["claimed_by_me"] is True
    assert clients["ana"].post(f"/api/v1/items/{item.id}/release").status_code == 200
    assert clients["bob"].post(f"/api/v1/items/{item.id}/claim").status_code == 200
    bad = clients["ana"].get("/api/v1/queue?priority=P9")
    assert bad.status_code == 422
