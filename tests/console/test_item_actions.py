"""Actions on the item page: notes, proposing a dispatch, a second person confirming it
(never the proposer), cancelling with a reason, cutting a wrong link — each by role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tipline.common.models import AuditRecord
from tipline.console.models import Note
from tipline.crossref.models import Link
from tipline.orient.models import Dispatch, Routing

from ..conftest import staff_user
from ..orient.conftest import report_page

pytestmark = pytest.mark.django_db


def as_role(role: str, name: str) -> Client:
    client = Client()
    client.force_login(staff_user(name, role))
    return client


def act(client: Client, item_id: int, **data: object) -> object:
    return client.post(f"/console/items/{item_id}/action", data)


def test_propose_then_a_second_person_confirms() -> None:
    item = report_page("https://actions.example/1")
    analyst, senior = as_role("analyst", "ana"), as_role("senior_analyst", "sen")
    page = analyst.get(f"/console/items/{item.id}/").content.decode()
    assert "Propose a dispatch to" in page and ">Confirm<" not in page
    assert act(analyst, item.id, action="propose", destination="police-cyber").status_code == 302
    d = Dispatch.objects.get(item=item)
    assert (d.state, d.proposed_by.username) == ("proposed", "ana")  # type: ignore[union-attr]
    # The analyst may not confirm at all; the senior may, as a second person.
    assert act(analyst, item.id, action="confirm", dispatch=d.id).status_code == 403
    assert f'data-dispatch="{d.id}"' in senior.get(f"/console/items/{item.id}/").content.decode()
    assert act(senior, item.id, action="confirm", dispatch=d.id).status_code == 302
    d.refresh_from_db()
    assert d.state in ("pending", "sent") and d.confirmed_by.username == "sen"  # type: ignore[union-attr]


def test_nobody_confirms_their_own_proposal_and_cancelling_needs_a_reason() -> None:
    item = report_page("https://actions.example/2")
    senior = as_role("senior_analyst", "sen")
    act(senior, item.id, action="propose", destination="police-cyber")
    d = Dispatch.objects.get(item=item)
    own = act(senior, item.id, action="confirm", dispatch=d.id)
    assert own.status_code == 403
    assert "another person must confirm it" in own.content.decode()
    assert (
        act(senior, item.id, action="cancel", dispatch=d.id, text="wrong office").status_code == 302
    )
    d.refresh_from_db()
    assert (d.state, d.cancel_reason) == ("cancelled", "wrong office")
    assert act(senior, item.id, action="confirm", dispatch=999999).status_code == 404


def test_notes_and_cutting_a_wrong_link() -> None:
    a = report_page("https://cut-a.example/1", excerpt="appelez le 03 53 01 20 20")
    b = report_page("https://cut-b.example/2", excerpt="contact 03 53 01 20 20")
    link = Link.objects.get(item_a_id=min(a.id, b.id), item_b_id=max(a.id, b.id))
    analyst = as_role("analyst", "ana")
    assert act(analyst, a.id, action="note", text="same number as case 12").status_code == 302
    assert Note.objects.get(item=a).text == "same number as case 12"
    assert "same number as case 12" in analyst.get(f"/console/items/{a.id}/").content.decode()
    assert act(analyst, a.id, action="note", text="  ").status_code == 422
    assert act(analyst, a.id, action="cut", link=link.id, text="switchboard").status_code == 302
    link.refresh_from_db()
    assert (link.state, link.reason) == ("cut", "switchboard")
    assert set(AuditRecord.objects.values_list("action", flat=True)) >= {"item.note", "link.cut"}
    liaison = as_role("liaison", "lia")
    assert act(liaison, a.id, action="note", text="x").status_code == 403
    assert act(analyst, a.id, action="launch").status_code == 400


def test_close_as_a_duplicate_takes_the_other_items_assessment_and_closes_it() -> None:
    first = report_page("https://dup-a.example/1")
    second = report_page("https://dup-b.example/1")
    analyst = as_role("analyst", "ana")
    analyst.post(
        f"/console/items/{first.id}/", {"theme": "trafficking", "classification": "national"}
    )
    assert act(analyst, second.id, action="duplicate", of_item="x").status_code == 422
    assert act(analyst, second.id, action="duplicate", of_item=second.id).status_code == 422
    assert act(analyst, second.id, action="duplicate", of_item=999999).status_code == 404
    done = act(analyst, second.id, action="duplicate", of_item=f"#{first.id}", text="mirror")
    assert done.status_code == 302
    second.refresh_from_db()
    assert (second.duplicate_of_id, second.classification, second.theme) == (
        first.id,
        "national",
        "trafficking",
    )
    routing = Routing.objects.get(item=second, is_current=True)
    assert routing.close_as == "duplicate" and 'Rule "duplicate"' in routing.reason
    assert not Dispatch.objects.filter(item=second).exclude(state="cancelled").exists()
    page = analyst.get(f"/console/items/{second.id}/").content.decode()
    assert f'href="/console/items/{first.id}/">#{first.id}</a>' in page
    # A duplicate of the duplicate points at the first item.
    third = report_page("https://dup-c.example/1")
    act(analyst, third.id, action="duplicate", of_item=second.id)
    third.refresh_from_db()
    assert third.duplicate_of_id == first.id


def test_the_age_category_is_kept_for_illegal_child_abuse_material_only() -> None:
    item = report_page("https://age.example/1")
    analyst = as_role("analyst", "ana")
    bad = analyst.post(
        f"/console/items/{item.id}/",
        {"theme": "csam", "classification": "baseline", "age_category": "old"},
    )
    assert bad.status_code == 422
    analyst.post(
        f"/console/items/{item.id}/",
        {"theme": "csam", "classification": "baseline", "age_category": "prepubescent"},
    )
    item.refresh_from_db()
    assert item.age_category == "prepubescent"
    record = AuditRecord.objects.filter(action="item.assess").latest("seq")
    assert record.detail["age_category"] == "prepubescent"
    analyst.post(
        f"/console/items/{item.id}/",
        {"theme": "trafficking", "classification": "national", "age_category": "infant"},
    )
    item.refresh_from_db()
    assert item.age_category == ""


def test_partial_updates_pick_their_section_out_of_the_page() -> None:
    item = report_page("https://htmx.example/1")
    analyst = as_role("analyst", "ana")
    page = analyst.get(f"/console/items/{item.id}/").content.decode()
    assert 'id="notes" hx-target="this" hx-select="#notes"' in page
    assert f'hx-post="/console/items/{item.id}/action"' in page
    assert "/static/htmx/htmx.min.js" in page and "<script>" not in page
    # htmx follows the redirect and swaps the section; the same request without htmx works.
    done = analyst.post(
        f"/console/items/{item.id}/action",
        {"action": "note", "text": "seen"},
        HTTP_HX_REQUEST="true",
        follow=True,
    )
    assert done.status_code == 200 and "seen" in done.content.decode()


def test_a_liaison_officer_sees_and_acknowledges_only_their_offices_dispatches() -> None:
    from tipline.orient.models import Destination

    item = report_page("https://liaison.example/1")
    analyst, senior = as_role("analyst", "ana"), as_role("senior_analyst", "sen")
    act(analyst, item.id, action="propose", destination="police-cyber")
    d = Dispatch.objects.get(item=item, destination__code="police-cyber")
    act(senior, item.id, action="confirm", dispatch=d.id)
    Dispatch.objects.filter(id=d.id).update(state="sent")
    liaison = as_role("liaison", "lia")
    assert liaison.get("/console/").status_code == 403  # not the hotline's queue
    assert liaison.get(f"/console/items/{item.id}/").status_code == 403
    assert f'data-dispatch="{d.id}"' not in liaison.get("/console/dispatches/").content.decode()
    refused = liaison.post("/console/dispatches/", {"dispatch": d.id, "reference": "X"})
    assert refused.status_code == 403
    Destination.objects.get(code="police-cyber").liaisons.add(User.objects.get(username="lia"))
    listed = liaison.get("/console/dispatches/").content.decode()
    assert f'data-dispatch="{d.id}"' in listed and "https://liaison.example/1" in listed
    assert f'href="/console/items/{item.id}/"' not in listed  # no way into the item page
    assert (
        liaison.post("/console/dispatches/", {"dispatch": d.id, "reference": "PJ-7"}).status_code
        == 302
    )
    d.refresh_from_db()
    assert (d.state, d.reference) == ("acknowledged", "PJ-7")
    assert AuditRecord.objects.filter(action="dispatch.acknowledge", actor="lia").exists()
