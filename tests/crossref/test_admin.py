"""The allowlist and common values, edited in the admin through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tipline.console import services as console
from tipline.crossref.models import AllowedValue, CommonValue, Link

from .test_crossref import links_between, network_of, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def senior(db) -> Client:  # type: ignore[no-untyped-def]
    console.roles_ensure()
    user = User.objects.create_user("senior", password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name="senior_analyst"))
    client = Client()
    client.force_login(user)
    return client


def test_adding_a_value_to_the_allowlist_in_the_admin_withdraws_its_links(
    run_tasks, senior
) -> None:  # type: ignore[no-untyped-def]
    a, b = send(
        run_tasks,
        {"urls": ["https://one.example/1"], "excerpt": "signalé au 01 99 00 45 45"},
        {"urls": ["https://two.example/2"], "excerpt": "appelé le 01 99 00 45 45"},
    )
    r = senior.post(
        "/admin/crossref/allowedvalue/add/",
        {"kind": "shared_phone", "value": "+33199004545", "note": "the hotline's own number"},
    )
    assert r.status_code == 302, r.content[:500]
    assert AllowedValue.objects.filter(value="+33199004545").exists()
    assert links_between(a, b, state="withdrawn") and network_of(a) is None
    row = AllowedValue.objects.get(value="+33199004545")
    r = senior.post(f"/admin/crossref/allowedvalue/{row.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert network_of(a) == network_of(b) is not None


def test_an_analyst_releases_a_common_value_and_its_carriers_link_again(
    run_tasks, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CROSSREF_COMMON_AFTER = 2
    items = send(
        run_tasks,
        *(
            {"urls": [f"https://s{i}.example/"], "excerpt": f"ad {i}: 01 99 00 46 46"}
            for i in range(4)
        ),
    )
    assert CommonValue.objects.filter(value="+33199004646").exists()
    assert not Link.objects.filter(state="active").exists()
    console.roles_ensure()
    user = User.objects.create_user("analyst2", is_staff=True)
    user.groups.add(Group.objects.get(name="analyst"))
    client = Client()
    client.force_login(user)
    row = CommonValue.objects.get(value="+33199004646")
    r = client.post(
        "/admin/crossref/commonvalue/",
        {"action": "release", "_selected_action": [row.pk]},
    )
    assert r.status_code == 302, r.content[:500]
    row.refresh_from_db()
    assert row.decision == "released" and row.decided_by == user
    assert len({network_of(i) for i in items}) == 1 and network_of(items[0]) is not None
    [later] = send(run_tasks, {"urls": ["https://s9.example/"], "excerpt": "01 99 00 46 46"})
    assert network_of(later) == network_of(items[0])
