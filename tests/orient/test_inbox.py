"""The exchange inbox over HTTP: a partner's report stored once on the partner channel,
retries answered with the first receipt, status updates recorded; forged, tampered,
replayed, expired and unknown-sender envelopes refused, logged, nothing stored."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tipline.intake.models import Report
from tipline.orient import exchange, keys
from tipline.orient.models import (
    Dispatch,
    DispatchKind,
    DispatchState,
    InboundEnvelope,
    SeenTransmission,
    Takedown,
)

from .conftest import report_page

pytestmark = pytest.mark.django_db

REPORT = {
    "report": {
        "category": "trafficking",
        "urls": ["https://ads-de.example/anzeige/77"],
        "excerpt": "Neu in der Stadt, heute Abend, Hotel, 100 Rosen",
        "reporter": {"name": "Beispiel-Meldestelle", "country": "DE"},
    },
    "assessment": {"theme": "trafficking", "classification": "national"},
    "reference": "TIP-DE000001",
}


def seal(
    partner: tuple[Any, list[exchange.KeyPair]],
    *,
    envelope_id: str | None = None,
    body: dict[str, Any] | None = None,
    type: str = "report",
    in_reply_to: str = "",
    now: Any = None,
    aud: str | None = None,
    iss: str = "tipline.de.example",
    signing_key: exchange.KeyPair | None = None,
) -> str:
    _, (sig, _enc) = partner
    return exchange.seal(
        type=type,
        iss=iss,
        aud=aud or settings.INSTANCE_ID,
        envelope_id=envelope_id or str(uuid.uuid4()),
        body=REPORT if body is None else body,
        signing_key=signing_key or sig,
        recipient_jwks=keys.public_jwks(),
        now=now or timezone.now(),
        in_reply_to=in_reply_to,
    )


def post(token: str) -> Any:
    return Client().post("/api/v1/exchange/inbox", token, content_type="application/jose")


def nothing_stored() -> bool:
    return not (Report.objects.exists() or InboundEnvelope.objects.exists())


def test_a_partner_report_is_stored_once_and_answered_with_a_signed_receipt(partner_de) -> None:
    envelope_id = str(uuid.uuid4())
    token = seal(partner_de, envelope_id=envelope_id)
    response = post(token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "received"
    receipt = exchange.verify_receipt(
        body["receipt"],
        sender_jwks=keys.public_jwks(),
        expected_iss=settings.INSTANCE_ID,
        own_id="tipline.de.example",
        envelope_id=envelope_id,
        acknowledges_jti=None,
        now=timezone.now(),
    )
    [report] = Report.objects.all()
    assert report.channel == "partner"
    assert report.urls == ["https://ads-de.example/anzeige/77"]
    assert receipt.body == {"status": "received", "reference": report.receipt}
    assert InboundEnvelope.objects.get().report_id == report.id

    # The partner did not get our answer and sends the same envelope again (a new
    # transmission): the first receipt's reference comes back, nothing is stored twice.
    again = post(seal(partner_de, envelope_id=envelope_id))
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["reference"] == report.receipt
    assert Report.objects.count() == 1


def test_a_replayed_transmission_is_refused(partner_de, caplog) -> None:
    token = seal(partner_de)
    assert post(token).status_code == 200
    replay = post(token)
    assert replay.status_code == 409
    assert replay.json()["detail"].endswith("was already received")
    assert replay["X-Tipline-Refusal"] == "replayed"
    assert Report.objects.count() == 1
    assert "envelope refused (replayed)" in caplog.text


def test_an_unknown_sender_is_refused(partner_de, caplog) -> None:
    response = post(seal(partner_de, iss="tipline.xx.example"))
    assert response.status_code == 403
    assert "'tipline.xx.example' is not one of our partner hotlines" in response.json()["detail"]
    assert nothing_stored()
    assert "envelope refused (unknown_sender)" in caplog.text


def test_a_forged_signature_is_refused(partner_de) -> None:
    _, (sig, _) = partner_de
    forger = exchange.new_signing_key(timezone.now())
    forged = exchange.KeyPair(kid=sig.kid, use="sig", jwk={**forger.jwk, "kid": sig.kid})
    response = post(seal(partner_de, signing_key=forged))
    assert response.status_code == 403
    assert response["X-Tipline-Refusal"] == "bad_signature"
    assert nothing_stored()


def test_a_tampered_envelope_is_refused(partner_de) -> None:
    parts = seal(partner_de).split(".")
    ciphertext = parts[3]
    parts[3] = ("B" if ciphertext[0] != "B" else "C") + ciphertext[1:]
    response = post(".".join(parts))
    assert response.status_code == 400
    assert "decrypt" in response.json()["detail"]
    assert nothing_stored()


def test_an_expired_envelope_is_refused(partner_de) -> None:
    response = post(seal(partner_de, now=timezone.now() - timedelta(hours=1)))
    assert response.status_code == 400
    assert response["X-Tipline-Refusal"] == "expired"
    assert nothing_stored()


def test_an_envelope_for_another_hotline_is_refused(partner_de) -> None:
    response = post(seal(partner_de, aud="tipline.be.example"))
    assert response.status_code == 403
    assert response["X-Tipline-Refusal"] == "not_for_us"
    assert nothing_stored()


@pytest.mark.parametrize("junk", ["", "hello", "a.b.c.d.e", "x" * 5000])
def test_junk_is_refused_clearly(partner_de, junk: str) -> None:
    response = post(junk)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert nothing_stored()


def test_an_invalid_report_is_refused_and_can_be_sent_again_fixed(partner_de) -> None:
    envelope_id = str(uuid.uuid4())
    bad = {"report": {"category": "trafficking", "urls": ["not a url"]}}
    response = post(seal(partner_de, envelope_id=envelope_id, body=bad))
    assert response.status_code == 422
    assert "the envelope's report is invalid: urls" in response.json()["detail"]
    assert nothing_stored()
    assert not SeenTransmission.objects.exists()
    assert post(seal(partner_de, envelope_id=envelope_id)).status_code == 200


def test_a_partners_status_updates_reach_what_we_sent(partner_de) -> None:
    dest, _ = partner_de
    item = report_page("https://sent-to-de.example/x")
    now = timezone.now()
    d = Dispatch.objects.create(
        item=item,
        destination=dest,
        kind=DispatchKind.DISPATCH,
        state=DispatchState.ACKNOWLEDGED,
        created_at=now,
        acknowledged_at=now,
    )
    assessed = {"status": "assessed", "classification": "baseline"}
    response = post(seal(partner_de, type="status", body=assessed, in_reply_to=str(d.envelope_id)))
    assert response.status_code == 200, response.content
    removed = {"status": "content_removed", "removed_at": now.isoformat()}
    assert (
        post(
            seal(partner_de, type="status", body=removed, in_reply_to=str(d.envelope_id))
        ).status_code
        == 200
    )
    d.refresh_from_db()
    assert [u["status"] for u in d.updates] == ["assessed", "content_removed"]
    takedown = Takedown.objects.get(item=item)
    assert takedown.state == "removed"
    assert takedown.removed_how == "partner partner-de reported it removed"


def test_a_status_about_nothing_we_sent_is_refused(partner_de) -> None:
    body = {"status": "assessed"}
    unknown = str(uuid.uuid4())
    response = post(seal(partner_de, type="status", body=body, in_reply_to=unknown))
    assert response.status_code == 404
    assert (
        f"no dispatch with envelope id '{unknown}' was sent to partner-de"
        in (response.json()["detail"])
    )
    strange = post(seal(partner_de, type="status", body={"status": "burnt"}, in_reply_to=unknown))
    assert strange.status_code == 400
    assert "unknown status 'burnt'" in strange.json()["detail"]


def test_our_public_keys_are_published_without_private_parts() -> None:
    body = Client().get("/api/v1/exchange/jwks").json()
    assert body["instance_id"] == settings.INSTANCE_ID
    assert sorted(k["use"] for k in body["keys"]) == ["enc", "sig"]
    assert all("d" not in k for k in body["keys"])
    assert exchange.check_public_jwks({"keys": body["keys"]})


def test_after_rotation_a_message_to_our_old_key_still_opens(partner_de) -> None:
    token = seal(partner_de)  # sealed to the current key
    keys.instance_keys_rotate()
    assert post(token).status_code == 200
