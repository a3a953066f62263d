"""Two Tipline instances on loopback — two servers, two databases — exchanging a report:
it reaches the partner once, the partner's receipt closes our outbox row, the partner's
"assessed" and "content removed" come back; with the partner down for a while, or killed
between storing an envelope and answering, each dispatch still arrives exactly once."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..conftest import wait_for
from ..instances import Instance, make_partners

pytestmark = pytest.mark.slow

if os.environ.get("TIPLINE_DATABASE_URL", "").startswith("postgres"):
    pytest.skip(
        "both instances run on their own SQLite data dirs; once per suite is enough",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, Instance]]:
    """Hotline A (France) and its partner B (Germany), each knowing the other's keys."""
    a = Instance("A", "FR", tmp_path_factory.mktemp("a"))
    b = Instance("B", "DE", tmp_path_factory.mktemp("b"))
    make_partners(a, b)
    a.start()
    b.start()
    yield a, b
    for me in (a, b):
        log = me.stop()
        assert "Traceback" not in log, log


def report_on_a(a: Instance, url: str) -> int:
    """A provider reports a page to A; returns A's item id once the report is oriented."""
    created = httpx.post(
        f"{a.base}/api/v1/reports",
        headers={"Authorization": f"Bearer {a.provider_token}"},
        json={
            "urls": [url],
            "excerpt": "Neu in der Stadt, heute Abend, 100 Rosen",
            "category": "sex ad",
        },
    )
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    auth = a.provider_token

    def oriented() -> bool:
        return bool(a.api("GET", f"/reports/{rid}", token=auth)["state"] == "oriented")

    wait_for(oriented, 30, "the report to be oriented on A")
    [item_id] = a.api("GET", f"/reports/{rid}", token=auth)["item_ids"]
    return int(item_id)


def partner_dispatch(a: Instance, item_id: int) -> dict[str, Any]:
    routing = a.api("GET", f"/items/{item_id}/routing")
    [d] = [d for d in routing["dispatches"] if d["destination"] == "partner-de"]
    return dict(d)


def send_to_b(a: Instance, url: str, host: str) -> int:
    """Report on A a page hosted in B's country, assess it: A's outbox holds a dispatch
    to B. Returns A's item id."""
    item_id = report_on_a(a, url)
    a.api("POST", f"/hosts/{host}/hosting", json={"country": "DE"})
    wait_for(
        lambda: any(
            d["destination"] == "partner-de"
            for d in a.api("GET", f"/items/{item_id}/routing")["dispatches"]
        ),
        30,
        "A to route the item to partner-de",
    )
    assert partner_dispatch(a, item_id)["state"] == "proposed"
    a.api(
        "POST",
        f"/items/{item_id}/assess",
        json={"theme": "trafficking", "classification": "national"},
    )
    return item_id


def b_item_for(b: Instance, envelope_id: str) -> int:
    rows = b.sql(
        "select ri.item_id from orient_inboundenvelope e "
        "join harmonize_reportitem ri on ri.report_id = e.report_id "
        "where e.envelope_id = ?",
        envelope_id,
    )
    assert len(rows) == 1, rows
    return int(rows[0][0])


def test_a_report_assessed_on_a_reaches_b_once_and_b_answers_back(pair) -> None:
    a, b = pair
    item_id = send_to_b(a, "https://ads-de.example/anzeige/1", "ads-de.example")
    wait_for(
        lambda: partner_dispatch(a, item_id)["state"] == "acknowledged",
        30,
        "B's receipt to close A's outbox row",
    )
    dispatch = partner_dispatch(a, item_id)
    assert b.partner_reports() == 1
    [(receipt, _channel, urls)] = b.sql(
        "select receipt, channel, urls from intake_report where channel='partner'"
    )
    assert dispatch["reference"] == receipt  # B's own reference for it, in B's signed receipt
    assert json.loads(urls) == ["https://ads-de.example/anzeige/1"]
    # B never learns who reported it to A (B keeps even A's name encrypted at rest).
    [(name, email)] = b.sql("select reporter_name, reporter_email from intake_report")
    assert (b.decrypt(name), email) == ("Demo hotline FR (fictional)", "")

    # B's analysts assess it, then find it gone: A hears both.
    wait_for(
        lambda: b.sql("select state from intake_report")[0][0] == "oriented",
        30,
        "B to process the incoming report",
    )
    b_item = b_item_for(b, dispatch["envelope_id"])
    b.api(
        "POST",
        f"/items/{b_item}/assess",
        json={"theme": "trafficking", "classification": "national"},
    )
    b.api("POST", f"/items/{b_item}/removed", json={"note": "host confirmed removal"})
    wait_for(
        lambda: (
            [u["status"] for u in partner_dispatch(a, item_id)["updates"]]
            == ["assessed", "content_removed"]
        ),
        30,
        "B's status updates to reach A",
    )
    takedown = a.api("GET", f"/items/{item_id}/routing")["takedown"]
    assert takedown["state"] == "removed"
    assert takedown["removed_how"] == "partner partner-de reported it removed"
    assert b.partner_reports() == 1


def test_with_b_down_the_dispatch_waits_and_arrives_once_when_b_returns(pair) -> None:
    a, b = pair
    before = b.partner_reports()
    b.kill()
    item_id = send_to_b(a, "https://ads-de.example/anzeige/2", "ads-de.example")
    wait_for(
        lambda: partner_dispatch(a, item_id)["attempts"] >= 2,
        30,
        "A to try B and fail twice",
    )
    d = partner_dispatch(a, item_id)
    assert d["state"] == "pending"
    assert "no answer from" in d["last_error"]
    b.start()
    wait_for(
        lambda: partner_dispatch(a, item_id)["state"] == "acknowledged",
        30,
        "the dispatch to arrive once B is back",
    )
    assert b.partner_reports() == before + 1


def test_b_killed_between_storing_and_answering_still_gets_each_dispatch_once(pair) -> None:
    a, b = pair
    before = b.partner_reports()
    b.kill()
    b.start(TIPLINE_EXCHANGE_TEST_DELAY_S="5")  # stores, then waits before answering
    item_id = send_to_b(a, "https://ads-de.example/anzeige/3", "ads-de.example")
    wait_for(lambda: b.partner_reports() == before + 1, 30, "B to store the envelope")
    b.kill()  # A is still waiting for B's answer: it never comes
    wait_for(
        lambda: partner_dispatch(a, item_id)["attempts"] >= 1,
        30,
        "A to record the failed attempt",
    )
    assert partner_dispatch(a, item_id)["state"] == "pending"
    b.start()
    wait_for(
        lambda: partner_dispatch(a, item_id)["state"] == "acknowledged",
        30,
        "A to deliver again and get B's receipt",
    )
    assert b.partner_reports() == before + 1  # stored once: the retry was a duplicate
    envelope = partner_dispatch(a, item_id)["envelope_id"]
    assert b.sql("select count(*) from orient_inboundenvelope where envelope_id=?", envelope) == [
        (1,)
    ]


def test_b_refuses_forged_tampered_replayed_and_unknown_envelopes_over_http(pair) -> None:
    """The test speaks as A with A's own keys (read from A's database), then as a forger."""
    from datetime import UTC, datetime

    from tipline.orient import exchange

    a, b = pair
    [(kid, jwk)] = a.sql(
        "select kid, private_jwk from orient_instancekey where use='sig' and retired_at is null"
    )
    a_sig = exchange.KeyPair(kid=kid, use="sig", jwk=json.loads(jwk))
    b_keys = httpx.get(f"{b.base}/api/v1/exchange/jwks").json()
    assert all("d" not in k for k in b_keys["keys"])
    before = b.partner_reports()

    def sealed(signing_key: exchange.KeyPair, iss: str = a.instance_id) -> str:
        return exchange.seal(
            type="report",
            iss=iss,
            aud=b.instance_id,
            envelope_id=f"test-{os.urandom(6).hex()}",
            body={"report": {"urls": ["https://ads-de.example/anzeige/99"], "category": "csam"}},
            signing_key=signing_key,
            recipient_jwks={"keys": b_keys["keys"]},
            now=datetime.now(UTC),
        )

    def post(token: str) -> httpx.Response:
        return httpx.post(
            f"{b.base}/api/v1/exchange/inbox",
            content=token,
            headers={"Content-Type": "application/jose"},
        )

    good = sealed(a_sig)
    assert post(good).status_code == 200
    replayed = post(good)
    assert (replayed.status_code, replayed.headers["X-Tipline-Refusal"]) == (409, "replayed")
    forger = exchange.new_signing_key(datetime.now(UTC))
    forged = exchange.KeyPair(kid=a_sig.kid, use="sig", jwk={**forger.jwk, "kid": a_sig.kid})
    refused = post(sealed(forged))
    assert (refused.status_code, refused.headers["X-Tipline-Refusal"]) == (403, "bad_signature")
    parts = sealed(a_sig).split(".")
    parts[4] = ("A" if parts[4][0] != "A" else "B") + parts[4][1:]  # the GCM tag
    tampered = post(".".join(parts))
    assert (tampered.status_code, tampered.headers["X-Tipline-Refusal"]) == (400, "malformed")
    stranger = post(sealed(forger, iss="tipline.zz.example"))
    assert (stranger.status_code, stranger.headers["X-Tipline-Refusal"]) == (
        403,
        "unknown_sender",
    )
    assert b.partner_reports() == before + 1  # only the good one
    log = (b.root / "serve.log").read_text()
    for code in ("replayed", "bad_signature", "malformed", "unknown_sender"):
        assert f"envelope refused ({code})" in log
