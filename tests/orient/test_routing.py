"""Routing on the database: each default rule's outcome and reason as reports flow through
the pipeline, what waits for an assessment, four eyes, and the provider's view."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from tipline.analyze.models import ItemAnalysis
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.orient import services
from tipline.orient.models import (
    Destination,
    Dispatch,
    DispatchKind,
    DispatchState,
    Routing,
    Takedown,
)

from ..conftest import drain, staff_user
from .conftest import hosted, report_page

pytestmark = pytest.mark.django_db


def current(item_id: int) -> Routing:
    return Routing.objects.get(item_id=item_id, is_current=True)


def dispatches(item_id: int) -> list[tuple[str, str, str]]:
    """(kind, destination code or address, state) of the item's outbox rows."""
    return sorted(
        (d.kind, d.destination.code if d.destination else d.address, d.state)
        for d in Dispatch.objects.filter(item_id=item_id).select_related("destination")
    )


def test_a_page_waits_for_its_hosting_then_goes_to_police_and_its_host(analyst) -> None:
    item = report_page("https://ads-home.example/annonce/1")
    routing = current(item.id)
    assert routing.rules == ["hosting-unknown"]
    assert routing.hold
    assert "hosting not known yet" in routing.reason
    assert "waiting for the hosting lookup" in routing.reason
    assert dispatches(item.id) == []

    hosted("ads-home.example", "FR", "abuse@hoster-fr.example")
    routing = current(item.id)
    assert routing.rules == ["hosted-at-home"]
    assert "hosted in FR, our country (ads-home.example)" in routing.reason
    assert "competent office for trafficking" in routing.reason
    assert "abuse@hoster-fr.example" in routing.reason
    rows = Dispatch.objects.filter(item=item).order_by("kind")
    assert [(d.kind, d.state, d.waiting_for) for d in rows] == [
        (DispatchKind.DISPATCH, DispatchState.PROPOSED, "waiting for an analyst's assessment"),
        (DispatchKind.NOTICE, DispatchState.PROPOSED, "waiting for an analyst's assessment"),
    ]
    assert rows[0].destination.code == "police-trafficking"  # type: ignore[union-attr]
    assert mail.outbox == []  # nothing leaves before an analyst assessed it

    services.item_classify(
        item_id=item.id,
        theme=Theme.TRAFFICKING,
        classification=Classification.NATIONAL,
        user=analyst,
    )
    drain()
    assert [s for _, _, s in dispatches(item.id)] == [DispatchState.SENT, DispatchState.SENT]
    referral, notice = sorted(mail.outbox, key=lambda m: m.to[0], reverse=True)
    assert referral.to == ["referrals@trafficking.police.example"]
    assert "Referral" in referral.subject and "https://ads-home.example/annonce/1" in referral.body
    # The host is in France: the notice is in French, with its reference.
    assert notice.to == ["abuse@hoster-fr.example"]
    assert "contenu illicite" in notice.subject
    assert notice.extra_headers["X-Tipline-Reference"] in notice.body
    takedown = Takedown.objects.get(item=item)
    assert (takedown.state, takedown.notices, takedown.country) == ("open", 1, "FR")
    assert takedown.next_check_at is not None


def test_routing_again_on_the_same_facts_changes_nothing() -> None:
    item = report_page("https://same.example/1")
    hosted("same.example", "FR", "abuse@same.example")
    assert services.items_route(item_ids=[item.id]) == 0
    assert Routing.objects.filter(item=item).count() == 2  # unknown, then home
    # A second report of the same page: the facts are the same, nothing is proposed twice.
    report_page("https://same.example/1")
    assert Dispatch.objects.filter(item=item).count() == 2


def test_a_page_in_a_partner_country_goes_to_that_partner(partner_de, analyst) -> None:
    item = report_page("https://ads-de.example/anzeige/9")
    hosted("ads-de.example", "DE", "abuse@hoster-de.example")
    routing = current(item.id)
    assert routing.rules == ["partner-country"]
    assert "hosted in DE (ads-de.example), which has a partner hotline" in routing.reason
    assert dispatches(item.id) == [("dispatch", "partner-de", "proposed")]


def test_a_page_where_no_hotline_exists_goes_to_police_with_a_flag() -> None:
    item = report_page("https://ads-br.example/x")
    hosted("ads-br.example", "BR", "abuse@hoster-br.example")
    routing = current(item.id)
    assert routing.rules == ["no-hotline"]
    assert "hosted in BR (ads-br.example), where no partner hotline exists" in routing.reason
    office = Dispatch.objects.get(item=item, kind=DispatchKind.DISPATCH)
    assert office.flag == "hosted in a country without a partner hotline"
    assert office.destination.code == "police-trafficking"  # type: ignore[union-attr]
    assert Dispatch.objects.filter(item=item, kind=DispatchKind.NOTICE).exists()


def test_without_an_abuse_contact_the_notice_is_a_problem_named_on_the_routing() -> None:
    item = report_page("https://noabuse.example/x")
    hosted("noabuse.example", "FR", "")
    routing = current(item.id)
    assert routing.problems == ["no abuse contact known for noabuse.example yet"]
    assert dispatches(item.id) == [("dispatch", "police-trafficking", "proposed")]


def test_p1_escalates_at_once_and_routing_goes_on(settings) -> None:
    child = "she is 15 and available tonight, hotel incall, call 01 99 00 12 35"
    item = report_page("https://p1.example/x", excerpt=child)
    assert current(item.id).facts["priority"] == "P1"
    hosted("p1.example", "FR", "abuse@p1.example")
    routing = current(item.id)
    assert routing.rules == ["p1-escalate", "hosted-at-home"]
    assert routing.escalate
    [alert] = Dispatch.objects.filter(item=item, kind=DispatchKind.ALERT)
    assert alert.address == settings.ESCALATION_EMAIL
    drain()
    assert [m.to for m in mail.outbox] == [[settings.ESCALATION_EMAIL]]
    assert "Escalation" in mail.outbox[0].subject
    # Routing again (the host moved) does not escalate twice.
    hosted("p1.example", "BR", "abuse@p1.example")
    assert Dispatch.objects.filter(item=item, kind=DispatchKind.ALERT).count() == 1


def test_known_content_goes_without_waiting_for_an_assessment(settings) -> None:
    item = report_page("https://known.example/x")
    ItemAnalysis.objects.update_or_create(
        item=item, defaults={"known_content": True, "updated_at": item.last_reported_at}
    )
    hosted("known.example", "FR", "abuse@known.example")  # routes, then delivers
    assert [s for _, _, s in dispatches(item.id)] == ["sent", "sent"]
    assert all(not d.confirmed_by_id for d in Dispatch.objects.filter(item=item))
    assert len(mail.outbox) == 2


def test_known_content_waits_too_when_the_setting_says_so(settings) -> None:
    settings.ORIENT_KNOWN_IS_ASSESSED = False
    item = report_page("https://known2.example/x")
    ItemAnalysis.objects.update_or_create(
        item=item, defaults={"known_content": True, "updated_at": item.last_reported_at}
    )
    hosted("known2.example", "FR", "abuse@known2.example")
    assert [s for _, _, s in dispatches(item.id)] == ["proposed", "proposed"]


def test_assessed_not_illegal_closes_and_cancels_what_was_proposed(analyst) -> None:
    item = report_page("https://legal.example/x")
    hosted("legal.example", "FR", "abuse@legal.example")
    services.item_classify(
        item_id=item.id,
        theme=Theme.OTHER,
        classification=Classification.NOT_ILLEGAL,
        user=analyst,
    )
    routing = current(item.id)
    assert routing.rules == ["not-illegal"]
    assert routing.close_as == "not_illegal"
    rows = Dispatch.objects.filter(item=item)
    assert {d.state for d in rows} == {DispatchState.CANCELLED}
    assert all(d.cancel_reason.startswith('routing changed: Rule "not-illegal"') for d in rows)
    drain()
    assert mail.outbox == []


def test_doubtful_is_held_for_a_senior(analyst) -> None:
    item = report_page("https://doubt.example/x")
    hosted("doubt.example", "FR", "abuse@doubt.example")
    services.item_classify(
        item_id=item.id, theme=Theme.CSAM, classification=Classification.DOUBTFUL, user=analyst
    )
    routing = current(item.id)
    assert routing.rules == ["doubtful"] and routing.hold
    assert "a senior analyst decides" in routing.reason


def test_a_manual_dispatch_needs_a_second_person(analyst, senior) -> None:
    item = report_page("https://manual.example/x")
    d = services.dispatch_propose(
        item_id=item.id, destination_code="police-cyber", user=analyst, note="linked to case 12"
    )
    assert (d.state, d.waiting_for) == ("proposed", "waiting for a person to confirm")
    with pytest.raises(services.OrientError, match="another person must confirm") as refused:
        services.dispatch_confirm(dispatch_id=d.id, user=analyst)
    assert refused.value.status == 403
    with pytest.raises(services.OrientError, match="already has a dispatch"):
        services.dispatch_propose(item_id=item.id, destination_code="police-cyber", user=senior)
    confirmed = services.dispatch_confirm(dispatch_id=d.id, user=senior)
    assert confirmed.state == "pending"
    drain()
    assert [m.to for m in mail.outbox] == [["referrals@cyber.police.example"]]
    # Routing does not cancel what a person proposed.
    hosted("manual.example", "FR", "abuse@manual.example")
    assert Dispatch.objects.get(id=d.id).state == "sent"


def test_a_dispatch_is_cancelled_before_it_goes_not_after(analyst) -> None:
    item = report_page("https://cancel.example/x")
    d = services.dispatch_propose(item_id=item.id, destination_code="police-cyber", user=analyst)
    cancelled = services.dispatch_cancel(dispatch_id=d.id, user=analyst, reason="wrong office")
    assert (cancelled.state, cancelled.cancel_reason) == ("cancelled", "wrong office")
    with pytest.raises(services.OrientError, match="already cancelled"):
        services.dispatch_cancel(dispatch_id=d.id, user=analyst, reason="again")


def test_unknown_destination_is_a_clear_error(analyst) -> None:
    item = report_page("https://unknown-dest.example/x")
    with pytest.raises(services.OrientError, match="no active destination with code 'nope'"):
        services.dispatch_propose(item_id=item.id, destination_code="nope", user=analyst)


def test_the_provider_sees_where_its_report_went_but_not_police_referrals(api) -> None:
    from tipline.intake.models import Report

    response = api.post(
        "/api/v1/reports",
        {"urls": ["https://provider-view.example/p"], "excerpt": "dispo ce soir"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    report_id = response.json()["id"]
    drain()
    hosted("provider-view.example", "FR", "abuse@pv.example")
    body: dict[str, Any] = api.get(f"/api/v1/reports/{report_id}").json()
    item_id = Report.objects.get(id=report_id).report_items.get().item_id
    assert body["routing"] == [
        {
            "item_id": item_id,
            "decision": "routed",
            "dispatches": [{"to": "host", "state": "proposed"}],
        }
    ]


def test_an_analyst_works_an_item_through_the_api(analyst) -> None:
    from django.test import Client

    from tipline.intake.services import staff_token_create

    _, token = staff_token_create(user=analyst, name="api", scopes=["analyst"])
    client = Client(headers={"Authorization": f"Bearer {token}"})
    item = report_page("https://api-flow.example/x")
    stated = client.post(
        "/api/v1/hosts/api-flow.example/hosting",
        {"country": "fr", "abuse_email": "abuse@api-flow.example"},
        content_type="application/json",
    )
    assert stated.status_code == 200, stated.content
    assert stated.json()["country"] == "FR"
    drain()
    routing = client.get(f"/api/v1/items/{item.id}/routing").json()
    assert routing["routing"]["rules"] == ["hosted-at-home"]
    assert {d["waiting_for"] for d in routing["dispatches"]} == {
        "waiting for an analyst's assessment"
    }
    assessed = client.post(
        f"/api/v1/items/{item.id}/assess",
        {"theme": "trafficking", "classification": "national"},
        content_type="application/json",
    )
    assert assessed.status_code == 200
    drain()
    referral = next(
        d
        for d in client.get(f"/api/v1/items/{item.id}/routing").json()["dispatches"]
        if d["kind"] == "dispatch"
    )
    assert referral["state"] == "sent"
    # Recording an office's acknowledgement is for supervisors and liaison officers.
    refused = client.post(
        f"/api/v1/dispatches/{referral['id']}/acknowledge", {}, content_type="application/json"
    )
    assert refused.status_code == 403
    _, liaison_token = staff_token_create(
        user=staff_user("liaison1", "liaison"), name="api", scopes=["analyst"]
    )
    client = Client(headers={"Authorization": f"Bearer {liaison_token}"})
    # A liaison officer acts only on what went to their own office.
    assert client.get("/api/v1/dispatches").json() == []
    elsewhere = client.post(
        f"/api/v1/dispatches/{referral['id']}/acknowledge", {}, content_type="application/json"
    )
    assert elsewhere.status_code == 403
    assert "you are not its liaison officer" in elsewhere.json()["detail"]
    office = Destination.objects.get(code=referral["destination"])
    office.liaisons.add(User.objects.get(username="liaison1"))
    listed = client.get("/api/v1/dispatches").json()
    assert [d["id"] for d in listed] == [referral["id"]]
    assert listed[0]["item_url"].startswith("https://")
    ack = client.post(
        f"/api/v1/dispatches/{referral['id']}/acknowledge",
        {"reference": "PJ-2026-0042"},
        content_type="application/json",
    )
    assert ack.status_code == 200
    assert (ack.json()["state"], ack.json()["reference"]) == ("acknowledged", "PJ-2026-0042")
    again = client.post(
        f"/api/v1/dispatches/{referral['id']}/acknowledge", {}, content_type="application/json"
    )
    assert again.status_code == 409
    assert "only sent ones are acknowledged" in again.json()["detail"]
    _, token = staff_token_create(user=analyst, name="api2", scopes=["analyst"])
    client = Client(headers={"Authorization": f"Bearer {token}"})
    missing = client.get("/api/v1/items/999999/routing")
    assert (missing.status_code, missing.json()["detail"]) == (404, "there is no item 999999")
    bad_country = client.post(
        "/api/v1/hosts/api-flow.example/hosting",
        {"country": "F1"},
        content_type="application/json",
    )
    assert bad_country.status_code == 422
    assert "ISO 3166" in bad_country.json()["detail"]
