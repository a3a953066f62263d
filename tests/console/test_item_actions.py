"""Actions on the item page: notes, proposing a dispatch, a second person confirming it
(never the proposer), cancelling with a reason, cutting a wrong link — each by role."""

from __future__ import annotations

import pytest
from django.test import Client

from tipline.common.models import AuditRecord
from tipline.console.models import Note
from tipline.crossref.models import Link
from tipline.orient.models import Dispatch

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
