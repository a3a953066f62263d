"""Rules and destinations edited in the admin by supervisors, checked like the YAML
import; the outbox's confirm action keeps four eyes; analysts may only read."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tipline.console import services as console
from tipline.orient import exchange
from tipline.orient.models import Destination, Dispatch, Rule

from .conftest import partner_keys, report_page

pytestmark = pytest.mark.django_db


def staff(role: str, name: str) -> tuple[User, Client]:
    console.roles_ensure()
    user = User.objects.create_user(name, password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return user, client


RULE_FORM = {
    "position": "5",
    "name": "hate-to-cyber",
    "description": "Hate content goes to the cybercrime unit.",
    "then": json.dumps([{"do": "dispatch", "to": "police-cyber"}]),
    "final": "on",
    "enabled": "on",
}


def test_a_supervisor_adds_a_rule_and_a_wrong_one_is_refused_with_the_reason() -> None:
    _, client = staff("supervisor", "sup")
    ok = client.post("/admin/orient/rule/add/", {**RULE_FORM, "when": '{"theme": ["hate"]}'})
    assert ok.status_code == 302, ok.content[:800]
    assert Rule.objects.get(name="hate-to-cyber").when == {"theme": ["hate"]}
    bad = client.post(
        "/admin/orient/rule/add/",
        {**RULE_FORM, "name": "bad", "when": '{"colour": "red"}'},
    )
    assert bad.status_code == 200
    assert "&quot;when.colour&quot; is not a condition" in bad.content.decode()
    assert not Rule.objects.filter(name="bad").exists()


def test_an_analyst_reads_rules_but_cannot_change_them() -> None:
    _, client = staff("analyst", "ana2")
    assert client.get("/admin/orient/rule/").status_code == 200
    response = client.post("/admin/orient/rule/add/", {**RULE_FORM, "when": "{}"})
    assert response.status_code == 403
    assert not Rule.objects.filter(name="hate-to-cyber").exists()


def test_a_partner_with_a_private_key_in_its_key_set_is_refused() -> None:
    _, client = staff("supervisor", "sup2")
    sig, enc = partner_keys()
    form = {
        "kind": "partner",
        "code": "partner-nl",
        "name": "Voorbeeld Meldpunt (fictional)",
        "country": "NL",
        "themes": "[]",
        "language": "en",
        "endpoint_url": "https://tipline.nl.example/api/v1/exchange/inbox",
        "instance_id": "tipline.nl.example",
        "inhope_member": "on",
        "is_active": "on",
    }
    leaked = {"keys": [sig.jwk, enc.public]}
    bad = client.post("/admin/orient/destination/add/", {**form, "public_jwks": json.dumps(leaked)})
    assert bad.status_code == 200
    assert "private" in bad.content.decode()
    good = client.post(
        "/admin/orient/destination/add/",
        {**form, "public_jwks": json.dumps(exchange.public_jwks([sig, enc]))},
    )
    assert good.status_code == 302, good.content[:800]
    assert Destination.objects.get(code="partner-nl").public_jwks["keys"][0]["use"] == "sig"


def test_the_confirm_action_refuses_your_own_proposal() -> None:
    from tipline.orient import services

    me, client = staff("senior_analyst", "sen")
    item = report_page("https://admin-confirm.example/x")
    d = services.dispatch_propose(item_id=item.id, destination_code="police-cyber", user=me)
    response = client.post(
        "/admin/orient/dispatch/",
        {"action": "confirm", "_selected_action": [str(d.id)]},
        follow=True,
    )
    assert "another person must confirm it" in response.content.decode()
    assert Dispatch.objects.get(id=d.id).state == "proposed"


def test_an_analyst_is_not_offered_the_confirm_action() -> None:
    from tipline.orient import services

    _, client = staff("analyst", "ana3")
    other, _ = staff("analyst", "ana4")
    item = report_page("https://admin-analyst.example/x")
    d = services.dispatch_propose(item_id=item.id, destination_code="police-cyber", user=other)
    page = client.get("/admin/orient/dispatch/").content.decode()
    assert 'value="confirm"' not in page and 'value="cancel"' not in page
    client.post("/admin/orient/dispatch/", {"action": "confirm", "_selected_action": [str(d.id)]})
    assert Dispatch.objects.get(id=d.id).state == "proposed"
