"""The partner exchange envelope: sealing and opening between two instances, every refusal with
its code, key rotation, partner key sets and receipts. Pure: no database."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwe
from joserfc.jwe import JWERegistry
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter, is_str

from tipline.orient.exchange import (
    CLOCK_SKEW_S,
    MAX_AGE_S,
    VERSION,
    ExchangeError,
    KeyPair,
    Message,
    check_public_jwks,
    new_encryption_key,
    new_signing_key,
    open_sealed,
    public_jwks,
    seal,
    sender_of,
    sign_receipt,
    verify_receipt,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())
FR = "tipline.fr.example"
BE = "tipline.be.example"
NL = "tipline.nl.example"
BODY = {
    "reference": "FR-2025-000123",
    "summary": "Annonce suspecte — « massage » 24h/24, numéro 01 99 00 12 34 🙂",
    "observables": [{"kind": "url", "value": "https://ads.example/annonce/ü-中文"}],
    "count": 3,
    "flag": True,
    "nothing": None,
}
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass
class Instance:
    """One Tipline instance's id and private keys, as its partners know it."""

    id: str
    sig: KeyPair
    enc: KeyPair

    @property
    def keys(self) -> list[KeyPair]:
        return [self.sig, self.enc]

    @property
    def jwks(self) -> dict[str, Any]:
        return public_jwks(self.keys)


def instance(name: str) -> Instance:
    return Instance(name, new_signing_key(NOW), new_encryption_key(NOW))


@pytest.fixture
def fr() -> Instance:
    return instance(FR)


@pytest.fixture
def be() -> Instance:
    return instance(BE)


def seal_from(sender: Instance, receiver: Instance, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "type": "report",
        "iss": sender.id,
        "aud": receiver.id,
        "envelope_id": "env-1",
        "body": BODY,
        "signing_key": sender.sig,
        "recipient_jwks": receiver.jwks,
        "now": NOW,
    }
    arguments.update(changes)
    return seal(**arguments)


def open_at(receiver: Instance, sender: Instance, token: str, **changes: Any) -> Message:
    arguments: dict[str, Any] = {
        "own_keys": receiver.keys,
        "sender_jwks": sender.jwks,
        "expected_iss": sender.id,
        "own_id": receiver.id,
        "now": NOW,
    }
    arguments.update(changes)
    return open_sealed(token, **arguments)


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, str(caught.value)
    assert str(caught.value)  # a sentence for the log and the HTTP answer
    return caught.value


# -- hand-made tokens, built without the module under test ------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(value: Any) -> str:
    return b64(json.dumps(value).encode("utf-8"))


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims from FR to BE; a change to None drops the claim."""
    data: dict[str, Any] = {
        "v": VERSION,
        "type": "report",
        "iss": FR,
        "aud": BE,
        "jti": "jti-1",
        "envelope_id": "env-1",
        "iat": T0,
        "exp": T0 + MAX_AGE_S,
        "body": {"n": 1},
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def signed(payload: Any, key: KeyPair, header: dict[str, Any] | None = None) -> str:
    """A JWS compact signed with Ed25519 directly through `cryptography`."""
    header = header if header is not None else {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    signing_input = f"{b64_json(header)}.{b64_json(payload)}"
    private = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(key.jwk["d"] + "=="))
    return f"{signing_input}.{b64(private.sign(signing_input.encode('ascii')))}"


def encrypted(
    inner: str,
    to: KeyPair,
    header: dict[str, Any] | None = None,
    algorithms: tuple[str, ...] = ("ECDH-ES", "A256GCM"),
) -> str:
    """A JWE compact encrypted to `to`'s public key, FR's header unless one is given."""
    header = header or {"alg": "ECDH-ES", "enc": "A256GCM", "kid": to.kid, "cty": "JWT", "iss": FR}
    registry = JWERegistry(
        header_registry={"iss": HeaderParameter("Issuer", is_str)}, algorithms=list(algorithms)
    )
    return jwe.encrypt_compact(header, inner, OKPKey.import_key(to.public), registry=registry)


# -- the round trip ----------------------------------------------------------------------------


def test_round_trip_carries_the_claims_and_a_unicode_body(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be, jti="jti-42")
    message = open_at(be, fr, token)
    assert message == Message(
        type="report",
        iss=FR,
        aud=BE,
        jti="jti-42",
        envelope_id="env-1",
        iat=T0,
        exp=T0 + MAX_AGE_S,
        body=BODY,
        in_reply_to="",
    )


def test_the_body_is_encrypted_and_the_header_says_only_routing(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be)
    assert "FR-2025-000123" not in token
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert {name: header[name] for name in ("alg", "enc", "kid", "cty", "iss")} == {
        "alg": "ECDH-ES",
        "enc": "A256GCM",
        "kid": be.enc.kid,
        "cty": "JWT",
        "iss": FR,
    }
    assert set(header) == {"alg", "enc", "kid", "cty", "iss", "epk"}


def test_each_seal_has_a_new_jti_and_the_same_envelope(fr: Instance, be: Instance) -> None:
    first = open_at(be, fr, seal_from(fr, be))
    retry = open_at(be, fr, seal_from(fr, be))
    assert first.envelope_id == retry.envelope_id == "env-1"
    assert first.jti != retry.jti


def test_a_status_answers_an_envelope(fr: Instance, be: Instance) -> None:
    token = seal_from(
        be, fr, type="status", in_reply_to="env-1", body={"status": "taken down"}, envelope_id="s"
    )
    message = open_at(fr, be, token)
    assert (message.type, message.in_reply_to, message.body) == (
        "status",
        "env-1",
        {"status": "taken down"},
    )


def test_seal_refuses_what_no_receiver_would_accept(fr: Instance, be: Instance) -> None:
    with pytest.raises(ValueError, match="type"):
        seal_from(fr, be, type="gossip")
    with pytest.raises(ValueError, match="in_reply_to"):
        seal_from(fr, be, type="status")
    with pytest.raises(ValueError, match="envelope_id"):
        seal_from(fr, be, envelope_id="")
    with pytest.raises(ValueError, match="timezone"):
        seal_from(fr, be, now=datetime(2025, 3, 1, 12, 0))  # naive on purpose
    with pytest.raises(ValueError, match="signing key"):
        seal_from(fr, be, signing_key=fr.enc)
    with pytest.raises(ValueError, match="limit"):
        seal_from(fr, be, body={"blob": "x" * 1_000_001})
    refused("malformed", seal_from, fr, be, recipient_jwks={"keys": [fr.sig.public]})


def test_sender_of_reads_the_header_without_decrypting(fr: Instance, be: Instance) -> None:
    assert sender_of(seal_from(fr, be)) == FR
    refused("malformed", sender_of, "not a token")
    no_iss = encrypted("x.y.z", be.enc, {"alg": "ECDH-ES", "enc": "A256GCM", "kid": be.enc.kid})
    refused("malformed", sender_of, no_iss)


# -- refusals ----------------------------------------------------------------------------------


def test_a_hand_made_token_is_accepted_so_the_refusals_below_mean_something(
    fr: Instance, be: Instance
) -> None:
    message = open_at(be, fr, encrypted(signed(claims(), fr.sig), be.enc))
    assert (message.iss, message.jti, message.body) == (FR, "jti-1", {"n": 1})


def test_encrypted_to_a_key_we_do_not_hold(fr: Instance, be: Instance) -> None:
    stranger = instance(NL)
    token = seal_from(fr, stranger)
    error = refused("unknown_key", open_at, be, fr, token)
    assert stranger.enc.kid in str(error)


def test_a_key_of_ours_with_the_named_kid_but_the_wrong_value(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be)
    impostor = new_encryption_key(NOW)
    swapped = KeyPair(kid=be.enc.kid, use="enc", jwk={**impostor.jwk, "kid": be.enc.kid})
    error = refused("malformed", open_at, be, fr, token, own_keys=[be.sig, swapped])
    assert "could not be decrypted" in str(error)


@pytest.mark.parametrize("part", range(5))
def test_tampering_with_any_part_is_refused(fr: Instance, be: Instance, part: int) -> None:
    parts = seal_from(fr, be).split(".")
    if parts[part]:
        first = parts[part][0]
        parts[part] = ("B" if first == "A" else "A") + parts[part][1:]
    else:  # ECDH-ES has no encrypted key: smuggling one in is tampering too
        parts[part] = "AAAA"
    error = refused("malformed", open_at, be, fr, ".".join(parts))
    if part == 1:
        assert "encrypted key" in str(error)
    elif part > 1:
        assert "could not be decrypted" in str(error)


def respelt(part: str) -> str:
    """The same bytes spelt otherwise: base64url leaves unused low bits in a last character that
    does not fill 3 bytes, and setting one changes the string but not what it decodes to."""
    assert len(part) % 4, "no unused bits to set"
    spelt = part[:-1] + B64URL[B64URL.index(part[-1]) ^ 1]
    assert base64.urlsafe_b64decode(spelt + "==") == base64.urlsafe_b64decode(part + "==")
    return spelt


@pytest.mark.parametrize("part", [3, 4])
def test_the_same_bytes_spelt_otherwise_are_refused(fr: Instance, be: Instance, part: int) -> None:
    # The tag covers the bytes, not their spelling: only a canonical-encoding check stops this
    # (ours, with its own message; joserfc would refuse it later in its own words).
    lengths = (len(seal_from(fr, be, envelope_id="e" * n).split(".")[3]) for n in range(1, 9))
    n = 1 + next(i for i, length in enumerate(lengths) if length % 4)  # ciphertext with spare bits
    parts = seal_from(fr, be, envelope_id="e" * n).split(".")
    parts[part] = respelt(parts[part])
    error = refused("malformed", open_at, be, fr, ".".join(parts))
    assert "canonical" in str(error)


def test_a_signature_by_another_key_with_the_same_kid(fr: Instance, be: Instance) -> None:
    forger = new_signing_key(NOW)
    forged = KeyPair(kid=fr.sig.kid, use="sig", jwk={**forger.jwk, "kid": fr.sig.kid})
    token = seal_from(fr, be, signing_key=forged)
    refused("bad_signature", open_at, be, fr, token)


def test_a_signature_by_a_key_the_sender_does_not_list(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be, signing_key=new_signing_key(NOW))
    refused("unknown_key", open_at, be, fr, token)


def test_a_message_for_another_instance(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be, aud=NL)
    error = refused("not_for_us", open_at, be, fr, token)
    assert NL in str(error)


def test_a_message_from_someone_else_than_expected(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be)
    refused("bad_claims", open_at, be, fr, token, expected_iss=NL)


def test_claims_and_header_naming_different_senders(fr: Instance, be: Instance) -> None:
    header = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": be.enc.kid, "cty": "JWT", "iss": NL}
    token = encrypted(signed(claims(), fr.sig), be.enc, header)
    assert sender_of(token) == NL
    error = refused("bad_claims", open_at, be, fr, token)
    assert NL in str(error) and FR in str(error)


def test_expiry_allows_the_clock_skew_and_no_more(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be)
    last_moment = NOW + timedelta(seconds=MAX_AGE_S + CLOCK_SKEW_S)
    assert open_at(be, fr, token, now=last_moment).jti
    refused("expired", open_at, be, fr, token, now=last_moment + timedelta(seconds=1))


def test_a_message_from_the_future_beyond_the_skew(fr: Instance, be: Instance) -> None:
    token = seal_from(fr, be)
    assert open_at(be, fr, token, now=NOW - timedelta(seconds=CLOCK_SKEW_S)).jti
    refused("expired", open_at, be, fr, token, now=NOW - timedelta(seconds=CLOCK_SKEW_S + 1))


def test_a_lifetime_longer_than_the_maximum_age(fr: Instance, be: Instance) -> None:
    token = encrypted(signed(claims(exp=T0 + 10 * MAX_AGE_S), fr.sig), be.enc)
    refused("bad_claims", open_at, be, fr, token)


def test_another_version(fr: Instance, be: Instance) -> None:
    token = encrypted(signed(claims(v="tipline-exchange/2"), fr.sig), be.enc)
    error = refused("bad_claims", open_at, be, fr, token)
    assert "tipline-exchange/2" in str(error)


@pytest.mark.parametrize(
    "change",
    [
        {"v": None},
        {"type": None},
        {"iss": None},
        {"aud": None},
        {"jti": None},
        {"envelope_id": None},
        {"iat": None},
        {"exp": None},
        {"body": None},
        {"jti": ""},
        {"iat": str(T0)},
        {"exp": True},
        {"body": ["not", "an", "object"]},
        {"in_reply_to": 7},
        {"type": "gossip"},
        {"type": "status"},  # a status must say what it answers
    ],
    ids=repr,
)
def test_missing_or_mistyped_claims(fr: Instance, be: Instance, change: dict[str, Any]) -> None:
    token = encrypted(signed(claims(**change), fr.sig), be.enc)
    refused("bad_claims", open_at, be, fr, token)


def test_signed_claims_that_are_not_an_object(fr: Instance, be: Instance) -> None:
    token = encrypted(signed(["a", "list"], fr.sig), be.enc)
    refused("malformed", open_at, be, fr, token)


def test_an_unsigned_inner_token_alg_none(fr: Instance, be: Instance) -> None:
    header = {"alg": "none", "kid": fr.sig.kid, "typ": "JWT"}
    inner = f"{b64_json(header)}.{b64_json(claims())}."
    refused("bad_signature", open_at, be, fr, encrypted(inner, be.enc))


def test_an_inner_token_macd_with_the_senders_public_key(fr: Instance, be: Instance) -> None:
    # The classic confusion: HS256 "signed" with the public key, hoping it is used as a secret.
    header = {"alg": "HS256", "kid": fr.sig.kid, "typ": "JWT"}
    signing_input = f"{b64_json(header)}.{b64_json(claims())}"
    secret = fr.sig.public["x"].encode("ascii")
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    refused("bad_signature", open_at, be, fr, encrypted(f"{signing_input}.{b64(mac)}", be.enc))


def test_an_inner_token_with_unexpected_header_members(fr: Instance, be: Instance) -> None:
    header = {"alg": "EdDSA", "kid": fr.sig.kid, "b64": False, "crit": ["b64"]}
    refused("malformed", open_at, be, fr, encrypted(signed(claims(), fr.sig, header), be.enc))


@pytest.mark.parametrize(
    ("alg", "enc"), [("ECDH-ES+A256KW", "A256GCM"), ("ECDH-ES", "A128GCM")], ids=str
)
def test_other_encryption_algorithms(fr: Instance, be: Instance, alg: str, enc: str) -> None:
    header = {"alg": alg, "enc": enc, "kid": be.enc.kid, "cty": "JWT", "iss": FR}
    token = encrypted(signed(claims(), fr.sig), be.enc, header, algorithms=(alg, enc))
    refused("malformed", open_at, be, fr, token)


def test_a_receipt_is_not_a_transmission(fr: Instance, be: Instance) -> None:
    receipt = sign_receipt(
        iss=BE, aud=FR, envelope_id="e", acknowledges_jti="j", body={}, signing_key=be.sig, now=NOW
    )
    refused("malformed", open_at, fr, be, receipt)


def test_refusals_quote_the_wire_briefly(fr: Instance, be: Instance) -> None:
    header = {"alg": "X" * 10_000, "enc": "A256GCM", "kid": be.enc.kid, "cty": "JWT", "iss": FR}
    error = refused("malformed", open_at, be, fr, f"{b64_json(header)}..AAAA.AAAA.AAAA")
    assert len(str(error)) < 300


def test_a_token_too_large_is_refused_before_any_work(fr: Instance, be: Instance) -> None:
    refused("malformed", open_at, be, fr, "A" * 3_000_000)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.text(),
        st.text(alphabet=B64URL + ".", max_size=400),
        st.lists(st.text(alphabet=B64URL, max_size=120), min_size=5, max_size=5).map(".".join),
        st.binary().map(lambda raw: raw.decode("latin-1")),
        st.binary(),
        st.none(),
        st.integers(),
    )
)
def test_garbage_is_always_an_exchange_error(data: Any) -> None:
    receiver, sender = GARBAGE_PAIR
    with pytest.raises(ExchangeError):
        open_at(receiver, sender, cast(str, data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0), char=st.sampled_from(B64URL + "."))
def test_no_single_character_change_is_accepted(position: int, char: str) -> None:
    receiver, sender = GARBAGE_PAIR
    position %= len(GARBAGE_TOKEN)
    if GARBAGE_TOKEN[position] == char:
        return
    token = GARBAGE_TOKEN[:position] + char + GARBAGE_TOKEN[position + 1 :]
    with pytest.raises(ExchangeError):
        open_at(receiver, sender, token)


# Hypothesis tests cannot take function-scoped fixtures: one pair and token for all examples.
GARBAGE_PAIR = (instance(BE), instance(FR))
GARBAGE_TOKEN = seal_from(GARBAGE_PAIR[1], GARBAGE_PAIR[0])


# -- key rotation ------------------------------------------------------------------------------


def test_a_message_to_a_retired_encryption_key(fr: Instance, be: Instance) -> None:
    old_enc = be.enc
    token = seal_from(fr, be)  # FR still had BE's old key set
    new_enc = new_encryption_key(NOW + timedelta(days=90))
    assert open_at(be, fr, token, own_keys=[be.sig, old_enc, new_enc]).jti
    refused("unknown_key", open_at, be, fr, token, own_keys=[be.sig, new_enc])


def test_seal_encrypts_to_the_newest_encryption_key(fr: Instance, be: Instance) -> None:
    new_enc = new_encryption_key(NOW + timedelta(days=90))
    rotated = public_jwks([be.sig, be.enc, new_enc])
    token = seal_from(fr, be, recipient_jwks=rotated)
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"] == new_enc.kid
    assert open_at(be, fr, token, own_keys=[be.sig, be.enc, new_enc]).jti
    refused("unknown_key", open_at, be, fr, token)  # BE without its new key


def test_a_new_signing_key_listed_beside_the_old_one(fr: Instance, be: Instance) -> None:
    new_sig = new_signing_key(NOW + timedelta(days=90))
    both = public_jwks([fr.sig, new_sig, fr.enc])
    new_token = seal_from(fr, be, signing_key=new_sig)
    old_token = seal_from(fr, be)
    assert open_at(be, fr, new_token, sender_jwks=both).jti
    assert open_at(be, fr, old_token, sender_jwks=both).jti
    refused("unknown_key", open_at, be, fr, new_token)  # BE has not fetched FR's new set yet


# -- keys and key sets -------------------------------------------------------------------------


def test_new_keys_are_unique_dated_and_of_the_right_kind() -> None:
    sig, enc = new_signing_key(NOW), new_encryption_key(NOW)
    assert sig.kid.startswith("sig-20250301-") and enc.kid.startswith("enc-20250301-")
    assert len({new_signing_key(NOW).kid for _ in range(50)}) == 50
    assert (sig.use, sig.jwk["crv"], sig.jwk["alg"]) == ("sig", "Ed25519", "EdDSA")
    assert (enc.use, enc.jwk["crv"], enc.jwk["alg"]) == ("enc", "X25519", "ECDH-ES")
    assert sig.jwk["kid"] == sig.kid and "d" in sig.jwk


def test_private_parts_never_leave(fr: Instance) -> None:
    published = public_jwks(fr.keys)
    assert all("d" not in key for key in published["keys"])
    assert fr.sig.jwk["d"] not in json.dumps(published)
    assert fr.sig.jwk["d"] not in repr(fr.sig) and fr.enc.jwk["d"] not in repr(fr.enc)
    assert check_public_jwks(published) == published


def test_a_key_pair_must_be_consistent() -> None:
    sig = new_signing_key(NOW)
    with pytest.raises(ValueError, match="kid"):
        KeyPair(kid="other", use="sig", jwk=sig.jwk)
    with pytest.raises(ValueError, match="crv"):
        KeyPair(kid=sig.kid, use="enc", jwk=sig.jwk)
    with pytest.raises(ValueError, match="private"):
        KeyPair(kid=sig.kid, use="sig", jwk=sig.public)


def test_check_public_jwks_normalises(fr: Instance) -> None:
    sig = {**fr.sig.public, "key_ops": ["verify"], "note": "ours"}
    enc = {name: value for name, value in fr.enc.public.items() if name != "alg"}
    assert check_public_jwks({"keys": [sig, enc]}) == fr.jwks


def jwks_without(fr: Instance, **changes: Any) -> dict[str, Any]:
    """FR's key set with its signing key changed (a None drops the member)."""
    sig = {**fr.sig.public, **changes}
    return {"keys": [{k: v for k, v in sig.items() if v is not None}, fr.enc.public]}


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda fr: {"keys": [fr.sig.jwk, fr.enc.public]}, "private"),
        (lambda fr: {"keys": [fr.sig.public, fr.enc.jwk]}, "private"),
        (lambda fr: jwks_without(fr, crv="X25519"), "curve"),
        (lambda fr: {"keys": [fr.sig.public, {**fr.enc.public, "crv": "Ed25519"}]}, "curve"),
        (lambda fr: jwks_without(fr, kty="EC", crv="P-256"), "kty"),
        (lambda fr: jwks_without(fr, kid=None), "kid"),
        (lambda fr: jwks_without(fr, kid=""), "kid"),
        (lambda fr: jwks_without(fr, use=None), "use"),
        (lambda fr: jwks_without(fr, alg="HS256"), "alg"),
        (lambda fr: jwks_without(fr, x="AAAA"), "32-byte"),
        (lambda fr: jwks_without(fr, kid=fr.enc.kid), "twice"),
        (lambda fr: {"keys": [fr.sig.public]}, "encryption key"),
        (lambda fr: {"keys": [fr.enc.public]}, "signing key"),
        (lambda fr: {"keys": []}, "signing key"),
        (lambda fr: [fr.sig.public, fr.enc.public], "keys"),
        (lambda fr: {"keys": ["a string"]}, "object"),
    ],
)
def test_check_public_jwks_refuses(fr: Instance, make: Any, words: str) -> None:
    error = refused("malformed", check_public_jwks, make(fr))
    assert words in str(error)


# -- receipts ----------------------------------------------------------------------------------


def receipt_from(be: Instance, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "iss": BE,
        "aud": FR,
        "envelope_id": "env-1",
        "acknowledges_jti": "jti-1",
        "body": {"status": "received", "reference": "BE-77"},
        "signing_key": be.sig,
        "now": NOW,
    }
    arguments.update(changes)
    return sign_receipt(**arguments)


def verify_at(fr: Instance, be: Instance, token: str, **changes: Any) -> Message:
    arguments: dict[str, Any] = {
        "sender_jwks": be.jwks,
        "expected_iss": BE,
        "own_id": FR,
        "envelope_id": "env-1",
        "acknowledges_jti": "jti-1",
        "now": NOW,
    }
    arguments.update(changes)
    return verify_receipt(token, **arguments)


def test_a_receipt_acknowledges_a_transmission(fr: Instance, be: Instance) -> None:
    token = receipt_from(be)
    message = verify_at(fr, be, token)
    assert (message.type, message.iss, message.aud) == ("receipt", BE, FR)
    assert (message.envelope_id, message.in_reply_to) == ("env-1", "jti-1")
    assert message.body == {"status": "received", "reference": "BE-77"}
    assert message.jti and message.exp == T0 + MAX_AGE_S
    assert verify_at(fr, be, token, acknowledges_jti=None) == message
    assert receipt_from(be) != token  # each receipt has its own jti


def test_the_whole_exchange_ends_in_a_receipt(fr: Instance, be: Instance) -> None:
    transmission = open_at(be, fr, seal_from(fr, be))
    token = receipt_from(be, acknowledges_jti=transmission.jti)
    receipt = verify_at(fr, be, token, acknowledges_jti=transmission.jti)
    assert receipt.in_reply_to == transmission.jti


def test_receipt_refusals(fr: Instance, be: Instance) -> None:
    token = receipt_from(be)
    refused("bad_claims", verify_at, fr, be, token, acknowledges_jti="jti-2")
    refused("bad_claims", verify_at, fr, be, token, envelope_id="env-2")
    refused("bad_claims", verify_at, fr, be, token, expected_iss=NL)
    refused("not_for_us", verify_at, fr, be, receipt_from(be, aud=NL))
    refused("unknown_key", verify_at, fr, be, receipt_from(be, signing_key=new_signing_key(NOW)))
    forger = new_signing_key(NOW)
    forged = KeyPair(kid=be.sig.kid, use="sig", jwk={**forger.jwk, "kid": be.sig.kid})
    refused("bad_signature", verify_at, fr, be, receipt_from(be, signing_key=forged))
    late = NOW + timedelta(seconds=MAX_AGE_S + CLOCK_SKEW_S + 1)
    refused("expired", verify_at, fr, be, token, now=late)
    refused("malformed", verify_at, fr, be, seal_from(be, fr))  # a JWE is not a receipt


def test_a_signed_report_is_not_a_receipt(fr: Instance, be: Instance) -> None:
    report = signed(claims(iss=BE, aud=FR, in_reply_to="jti-1"), be.sig)
    error = refused("bad_claims", verify_at, fr, be, report)
    assert "receipt" in str(error)


def test_a_receipt_signature_spelt_otherwise(fr: Instance, be: Instance) -> None:
    header, payload, signature = receipt_from(be).split(".")
    token = f"{header}.{payload}.{respelt(signature)}"
    error = refused("malformed", verify_at, fr, be, token)
    assert "canonical" in str(error)


def test_a_tampered_receipt(fr: Instance, be: Instance) -> None:
    header, payload, signature = receipt_from(be).split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_claims["envelope_id"] = "env-2"
    refused(
        "bad_signature",
        verify_at,
        fr,
        be,
        f"{header}.{b64_json(forged_claims)}.{signature}",
        envelope_id="env-2",
    )


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), char=st.sampled_from(B64URL + "."))
def test_no_single_character_change_to_a_receipt_is_accepted(position: int, char: str) -> None:
    receiver, sender = GARBAGE_PAIR
    position %= len(GARBAGE_RECEIPT)
    if GARBAGE_RECEIPT[position] == char:
        return
    token = GARBAGE_RECEIPT[:position] + char + GARBAGE_RECEIPT[position + 1 :]
    with pytest.raises(ExchangeError):
        verify_at(sender, receiver, token)


GARBAGE_RECEIPT = receipt_from(GARBAGE_PAIR[0])


def test_no_warning_escapes(fr: Instance, be: Instance) -> None:
    # joserfc warns about "EdDSA" (RFC 9864) on every use unless the registry is narrowed.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transmission = open_at(be, fr, seal_from(fr, be))
        receipt = receipt_from(be, acknowledges_jti=transmission.jti)
        verify_at(fr, be, receipt, acknowledges_jti=transmission.jti)


def test_exchange_error_codes_are_a_closed_list() -> None:
    assert ExchangeError("replayed", "seen before").code == "replayed"
    with pytest.raises(ValueError, match="code"):
        ExchangeError("oops", "not a code")


def test_message_is_frozen(fr: Instance, be: Instance) -> None:
    message = open_at(be, fr, seal_from(fr, be))
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.iss = NL  # type: ignore[misc]
