"""Every role and every API action: allowed, or 403 with the reason. Four eyes on top:
nobody confirms their own proposal, whatever their role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tipline.console.roles import ROLES
from tipline.intake.services import staff_token_create
from tipline.orient import services
from tipline.orient.models import Dispatch

from ..conftest import staff_user
from ..orient.conftest import report_page

pytestmark = pytest.mark.django_db

READERS = {"analyst", "senior_analyst", "supervisor", "admin"}
SENIORS = {"senior_analyst", "supervisor", "admin"}

# (method, path, body, roles allowed)
ACTIONS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("get", "/api/v1/items/999/routing", None, READERS),
    ("get", "/api/v1/queue", None, READERS),
    ("post", "/api/v1/items/999/claim", None, READERS),
    ("post", "/api/v1/items/999/release", None, READERS),
    ("post", "/api/v1/items/999/assess", {"theme": "csam", "classification": "baseline"}, READERS),
    ("post", "/api/v1/hosts/h.example/hosting", {"country": "FR"}, READERS),
    ("post", "/api/v1/items/999/removed", {"note": "gone"}, READERS),
    ("post", "/api/v1/items/999/dispatches", {"destination": "police-cyber"}, READERS),
    ("post", "/api/v1/dispatches/999/confirm", {}, SENIORS),
    ("post", "/api/v1/dispatches/999/cancel", {"reason": "wrong"}, SENIORS),
    ("post", "/api/v1/dispatches/999/acknowledge", {}, {"supervisor", "admin", "liaison"}),
    ("post", "/api/v1/items/999/duplicate", {"of_item": 1}, READERS),
    ("get", "/api/v1/dispatches", None, set(ROLES)),
    ("get", "/api/v1/outbox/problems", None, READERS),
    ("get", "/api/v1/networks/999", None, READERS),
    ("get", "/api/v1/observables/search?type=phone&value=0199001234", None, READERS),
    ("post", "/api/v1/links/999/cut", {"reason": "wrong"}, READERS),
    (
        "post",
        "/api/v1/common-values/decide",
        {"kind": "shared_phone", "value": "+33199001234", "decision": "confirmed"},
        SENIORS,
    ),
]


def client_for(role: str) -> Client:
    user = staff_user(f"user-{role}", role)
    _, token = staff_token_create(user=user, name="rbac", scopes=["analyst"])
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ACTIONS)
def test_each_role_may_do_what_its_role_allows_and_nothing_else(
    role: str, method: str, path: str, body: dict[str, Any] | None, allowed: set[str]
) -> None:
    client = client_for(role)
    if method == "get":
        response = client.get(path)
    else:
        response = client.post(path, body or {}, content_type="application/json")
    if role in allowed:
        assert response.status_code != 403, (role, path, response.content)
    else:
        assert response.status_code == 403, (role, path, response.status_code)
        assert response.json()["detail"].startswith("your role does not allow you to")


def test_a_user_without_a_role_may_do_nothing() -> None:
    from django.contrib.auth.models import User

    user = User.objects.create_user("nobody", is_staff=True)
    _, token = staff_token_create(user=user, name="x", scopes=["analyst"])
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/networks/1")
    assert response.status_code == 403


def test_a_senior_cannot_confirm_their_own_proposal_but_another_senior_can() -> None:
    item = report_page("https://rbac.example/x")
    senior = staff_user("sen1", "senior_analyst")
    d = services.dispatch_propose(item_id=item.id, destination_code="police-cyber", user=senior)
    _, own = staff_token_create(user=senior, name="x", scopes=["analyst"])
    refused = Client(headers={"Authorization": f"Bearer {own}"}).post(
        f"/api/v1/dispatches/{d.id}/confirm", {}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "another person must confirm it" in refused.json()["detail"]
    other = client_for("senior_analyst")
    confirmed = other.post(
        f"/api/v1/dispatches/{d.id}/confirm", {}, content_type="application/json"
    )
    assert confirmed.status_code == 200
    assert Dispatch.objects.get(id=d.id).state == "pending"


# The console's pages and actions, by role: (method, path, form, roles allowed). {item} is a
# real item, so that a refusal is about the role and not a missing item.
PAGES: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("get", "/console/", None, READERS),
    ("get", "/console/items/{item}/", None, READERS),
    ("post", "/console/items/{item}/", {"theme": "csam", "classification": "baseline"}, READERS),
    ("post", "/console/items/{item}/claim", {}, READERS),
    ("post", "/console/items/{item}/action", {"action": "note", "text": "n"}, READERS),
    ("post", "/console/items/{item}/action", {"action": "duplicate", "of_item": "x"}, READERS),
    ("post", "/console/items/{item}/action", {"action": "propose", "destination": "x"}, READERS),
    ("post", "/console/items/{item}/action", {"action": "confirm", "dispatch": 9999}, SENIORS),
    ("post", "/console/items/{item}/action", {"action": "cancel", "dispatch": 9999}, SENIORS),
    ("post", "/console/items/{item}/action", {"action": "cut", "link": 9999}, READERS),
    ("post", "/console/items/{item}/unblur", {"sha256": "0" * 64}, READERS),
    ("get", "/console/networks/9999/", None, READERS),
    ("get", "/console/search/", None, READERS),
    ("get", "/console/preferences/", None, READERS),
    ("post", "/console/exposure/beat", {}, READERS),
    ("post", "/console/language/", {"language": "fr"}, set(ROLES)),
    ("get", "/console/dispatches/", None, set(ROLES)),
    ("post", "/console/dispatches/", {"dispatch": 9999}, {"supervisor", "admin", "liaison"}),
    ("get", "/console/audit/", None, {"supervisor", "admin"}),
    ("get", "/console/audit.csv", None, {"supervisor", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "form", "allowed"), PAGES)
def test_each_role_sees_and_does_in_the_console_what_its_role_allows(
    role: str, method: str, path: str, form: dict[str, Any] | None, allowed: set[str]
) -> None:
    item = report_page("https://rbac-pages.example/1")
    client = Client()
    client.force_login(staff_user(f"user-{role}", role))
    url = path.format(item=item.id)
    response = client.get(url) if method == "get" else client.post(url, form or {})
    if role in allowed:
        assert response.status_code != 403, (role, url, response.content[:300])
    else:
        assert response.status_code == 403, (role, url, response.status_code)
