"""Signing in to the console: password, then a TOTP code (enrolling the authenticator on
the first sign-in); lockout after repeated failures; the admin behind the same rule;
Argon2 password hashes; pages by role."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline.common.models import AuditRecord

from ..conftest import staff_user
from ..orient.conftest import report_page

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _second_factor(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_2FA = True


def with_password(role: str, name: str = "ana") -> User:
    user = staff_user(name, role)
    user.set_password(PASSWORD)
    user.save()
    return user  # type: ignore[no-any-return]


def code_for(device: TOTPDevice, *, later: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later
    return f"{totp.token():06d}"


def sign_in_password(client: Client, username: str = "ana", password: str = PASSWORD) -> object:
    return client.post(
        "/console/login/", {"username": username, "password": password, "next": "/console/"}
    )


def test_first_sign_in_enrols_an_authenticator_then_asks_for_its_code() -> None:
    user = with_password("analyst")
    assert user.password.startswith("argon2$")
    client = Client()
    assert client.get("/console/").status_code == 302  # not signed in
    step = sign_in_password(client)
    assert step.status_code == 302 and step["Location"].startswith("/console/login/code/")
    # A password alone does not open the console.
    assert client.get("/console/")["Location"].startswith("/console/login/")
    page = client.get(step["Location"]).content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    wrong = client.post("/console/login/code/", {"token": "000000", "next": "/console/"})
    assert wrong.status_code == 401 and "That code is not right" in wrong.content.decode()
    # After a wrong code, the next one waits (1 s, doubling with each wrong code).
    hurried = client.post("/console/login/code/", {"token": code_for(device), "next": "/"})
    assert hurried.status_code == 429 and "wait a few seconds" in hurried.content.decode()
    time.sleep(1.1)
    ok = client.post("/console/login/code/", {"token": code_for(device), "next": "/console/"})
    assert ok.status_code == 302 and ok["Location"] == "/console/"
    device.refresh_from_db()
    assert device.confirmed
    queue = client.get("/console/")
    assert queue.status_code == 200
    assert "Items waiting for an assessment" in queue.content.decode()
    assert AuditRecord.objects.filter(actor="ana", action="staff.login").count() == 1

    # Next time: no QR code, the enrolled authenticator's code.
    client2 = Client()
    page = client2.get(sign_in_password(client2)["Location"]).content.decode()
    assert "<svg" not in page
    later = client2.post(
        "/console/login/code/", {"token": code_for(device, later=30), "next": "/console/"}
    )
    assert later.status_code == 302
    assert client2.get("/console/").status_code == 200


def test_wrong_passwords_lock_the_account_from_that_address(settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    with_password("analyst")
    client = Client()
    for _ in range(2):
        r = sign_in_password(client, password="wrong")
        assert r.status_code == 401 and "Wrong username or password" in r.content.decode()
    locked = sign_in_password(client, password="wrong")
    assert locked.status_code == 429
    assert "locked" in locked.content.decode()
    # Even the right password is refused while locked.
    assert sign_in_password(client).status_code == 429


def test_the_admin_needs_the_second_factor_too() -> None:
    user = with_password("supervisor")
    client = Client()
    client.force_login(user)  # a password session, no code
    response = client.get("/admin/")
    assert response.status_code == 302
    # The admin's own login page sends staff to the console's two-step sign-in.
    login = client.get(response["Location"])
    assert login.status_code == 302 and login["Location"] == "/console/login/?next=/admin/"
    # Signed in with a code, the admin opens.
    client2 = Client()
    step = sign_in_password(client2)
    client2.get(step["Location"])
    device = TOTPDevice.objects.get(user=user)
    client2.post("/console/login/code/", {"token": code_for(device), "next": "/admin/"})
    assert client2.get("/admin/").status_code == 200


def test_a_liaison_officer_does_not_see_the_queue_and_an_analyst_claims_from_it() -> None:
    liaison = with_password("liaison", "lia")
    client = Client()
    step = sign_in_password(client, "lia")
    client.get(step["Location"])
    client.post(
        "/console/login/code/",
        {"token": code_for(TOTPDevice.objects.get(user=liaison)), "next": "/console/"},
    )
    assert client.get("/console/").status_code == 403

    ana = with_password("analyst")
    item = report_page("https://console-queue.example/1")
    client = Client()
    client.get(sign_in_password(client)["Location"])
    client.post(
        "/console/login/code/",
        {"token": code_for(TOTPDevice.objects.get(user=ana)), "next": "/console/"},
    )
    page = client.get("/console/").content.decode()
    assert f'data-item="{item.id}"' in page and ">Claim<" in page
    claimed = client.post(f"/console/items/{item.id}/claim")
    assert claimed.status_code == 302
    page = client.get("/console/").content.decode()
    assert re.search(r">Release<", page)


def test_sign_in_refuses_non_staff_and_foreign_redirects() -> None:
    User.objects.create_user("visitor", password=PASSWORD)
    client = Client()
    r = sign_in_password(client, "visitor")
    assert r.status_code == 401
    with_password("analyst")
    r = client.post(
        "/console/login/",
        {"username": "ana", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert r["Location"] == "/console/login/code/?next=/console/"


def test_pages_carry_a_strict_content_security_policy_and_nothing_comes_from_a_cdn() -> None:
    client = Client()
    login = client.get("/console/login/")
    policy = login["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in login.content.decode()
    docs = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


def test_an_idle_session_ends_and_says_why(settings) -> None:
    settings.CONSOLE_IDLE_S = 600.0
    settings.REQUIRE_2FA = False  # this test is about idleness, not the second factor
    client = Client()
    client.force_login(staff_user("ana"))
    assert client.get("/console/").status_code == 200
    session = client.session
    session["tipline_seen_at"] = time.time() - 601
    session.save()
    ended = client.get("/console/")
    assert ended.status_code == 302 and "idle=1" in ended["Location"]
    assert "without activity" in client.get(ended["Location"]).content.decode()
    assert client.get("/console/").status_code == 302  # signed out for good
    assert AuditRecord.objects.filter(action="staff.logout", detail={"idle": True}).exists()
