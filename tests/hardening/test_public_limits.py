"""The public form and the receipt status page under abuse: too many requests from one
address are refused with 429, a translated message and Retry-After (what was typed is
given back); a robot that fills in the hidden trap field is thanked and nothing is kept."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tipline.common import ratelimit
from tipline.common.models import RateCount
from tipline.common.rates import parse_rate
from tipline.intake.models import Report

pytestmark = pytest.mark.django_db

FORM = {
    "category": "fraud",
    "urls": "https://phish.example/login",
    "description": "zq-typed-description: a page imitating a bank",
    "consent": "on",
}
SITE_CSS = Path(__file__).parents[2] / "src/tipline/intake/static/tipline/site.css"


@pytest.fixture
def limits(settings: Any) -> None:
    settings.PUBLIC_REPORT_RATE = parse_rate("3/hour")
    settings.PUBLIC_STATUS_RATE = parse_rate("2/hour")


def post(client: Client, path: str = "/report/", **overrides: str) -> Any:
    return client.post(path, {**FORM, **overrides})


def test_the_fourth_report_in_an_hour_is_refused_with_429_and_retry_after(limits: None) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(3):
        assert post(client).status_code == 302
    refused = post(client, description="zq-fourth-report")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert "Many reports came from your connection in a short time" in page
    assert 'role="alert"' in page
    assert "zq-fourth-report" in page  # what was typed is given back, to send later
    assert Report.objects.count() == 3


def test_the_refusal_is_in_french_on_the_french_form(limits: None) -> None:
    client = Client(REMOTE_ADDR="192.0.2.11")
    for _ in range(3):
        post(client, "/fr/signaler/")
    refused = post(client, "/fr/signaler/")
    assert refused.status_code == 429
    assert "Beaucoup de signalements sont arrivés de votre connexion" in refused.content.decode()
    minutes = int(re.search(r"dans (\d+) minute", refused.content.decode()).group(1))  # type: ignore[union-attr]
    assert minutes == -(-int(refused["Retry-After"]) // 60)


def test_each_address_has_its_own_count_and_ipv6_counts_by_64(limits: None) -> None:
    for _ in range(3):
        post(Client(REMOTE_ADDR="192.0.2.20"))
    assert post(Client(REMOTE_ADDR="192.0.2.20")).status_code == 429
    assert post(Client(REMOTE_ADDR="192.0.2.21")).status_code == 302
    for host in ("1", "2", "3"):  # one household's /64
        assert post(Client(REMOTE_ADDR=f"2001:db8:0:1::{host}")).status_code == 302
    assert post(Client(REMOTE_ADDR="2001:db8:0:1::ffff")).status_code == 429
    assert post(Client(REMOTE_ADDR="2001:db8:0:2::1")).status_code == 302


def test_behind_a_proxy_the_address_it_forwards_is_counted(limits: None, settings: Any) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    proxy = "10.0.0.1"
    for _ in range(3):
        # What the client claims comes first; the proxy appends the address it saw.
        spoofed = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"203.0.113.{_}, 192.0.2.30")
        assert post(spoofed).status_code == 302
    refused = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.99, 192.0.2.30")
    assert post(refused).status_code == 429
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.31")
    assert post(other).status_code == 302


def test_a_new_window_lets_the_client_in_again_and_forgets_the_old_counts(
    limits: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(REMOTE_ADDR="192.0.2.40")
    for _ in range(4):
        post(client)
    assert post(client).status_code == 429
    assert RateCount.objects.count() == 1
    [row] = RateCount.objects.all()
    assert "192.0.2.40" not in row.client  # a keyed hash, never the address
    later = ratelimit._clock() + 3600
    monkeypatch.setattr(ratelimit, "_clock", lambda: later)
    assert post(client).status_code == 302
    assert RateCount.objects.count() == 1  # the ended window's row is gone


def test_no_limit_when_switched_off(settings: Any) -> None:
    settings.PUBLIC_REPORT_RATE = parse_rate("off")
    client = Client(REMOTE_ADDR="192.0.2.50")
    assert all(post(client).status_code == 302 for _ in range(25))
    assert not RateCount.objects.exists()


def test_receipt_lookups_are_limited_per_address(limits: None) -> None:
    client = Client(REMOTE_ADDR="192.0.2.60")
    for _ in range(2):
        assert client.get("/status/ABCD-EFGH-JKMN-PQRS").status_code == 404
    # The lookup form redirects to the status page, where the lookup is counted.
    redirected = client.get("/status/", {"code": "abcd efgh jkmn pqrs"})
    assert redirected.status_code == 302
    refused = client.get(redirected["Location"])
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert refused["Cache-Control"] == "no-store"
    assert "Many receipt codes were checked" in refused.content.decode()
    french = client.get("/fr/statut/ABCD-EFGH-JKMN-PQRS")
    assert french.status_code == 429
    assert "Beaucoup de codes de suivi ont été vérifiés" in french.content.decode()
    assert Client(REMOTE_ADDR="192.0.2.61").get("/status/ABCD-EFGH-JKMN-PQRS").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_requests_at_once_from_many_threads_are_counted_exactly() -> None:
    """waitress answers from several threads: together they get the rate, not more."""
    rate = parse_rate("10/hour")
    request = Client().get("/").wsgi_request
    request.META["REMOTE_ADDR"] = "192.0.2.70"
    allowed: list[bool] = []
    barrier = threading.Barrier(8)

    def hit() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                allowed.append(
                    ratelimit.rate_hit(scope="public_report", request=request, rate=rate) is None
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 40 and allowed.count(True) == 10


# --- The trap for robots -------------------------------------------------------------------


def test_the_trap_field_is_hidden_from_people_and_labelled_for_those_who_meet_it() -> None:
    page = Client().get("/report/").content.decode()
    trap = re.search(r'<div class="trap" aria-hidden="true">(.*?)</div>', page, re.S)
    assert trap is not None
    assert "Leave this field empty" in trap.group(1)
    field = re.search(r"<input[^>]*name=\"website\"[^>]*>", trap.group(1))
    assert field is not None
    assert 'tabindex="-1"' in field.group(0) and 'autocomplete="off"' in field.group(0)
    assert re.search(r"\.trap\s*\{[^}]*left:\s*-10000px", SITE_CSS.read_text())
    assert "Laissez ce champ vide" in Client().get("/fr/signaler/").content.decode()


def test_a_robot_filling_the_trap_is_thanked_and_nothing_is_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client()
    with caplog.at_level(logging.WARNING, logger="tipline.intake.views"):
        sent = post(client, website="https://spam.example/")
    assert sent.status_code == 302 and sent["Location"] == "/report/done/"
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200
    receipt = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", thanks.content.decode())
    assert receipt is not None  # the same page anyone gets, receipt and all
    assert not Report.objects.exists()
    assert "hidden trap field was filled in" in caplog.text
    assert client.get(f"/status/{receipt.group(0)}").status_code == 404


def test_a_person_who_leaves_the_trap_empty_reports_as_usual() -> None:
    assert post(Client(), website="").status_code == 302
    assert Report.objects.count() == 1


def test_robots_count_against_the_limit_too(limits: None) -> None:
    client = Client(REMOTE_ADDR="192.0.2.80")
    for _ in range(3):
        assert post(client, website="x").status_code == 302
    assert post(client).status_code == 429
    assert not Report.objects.exists()
