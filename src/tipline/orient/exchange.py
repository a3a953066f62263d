"""The envelope partner hotlines exchange reports in: claims signed by the sender (JWS, EdDSA),
then encrypted to the receiver (JWE, ECDH-ES + A256GCM). Pure: no Django, no I/O.

Only the algorithms named here are ever accepted (never "none", HS*, RSA or any other), key
lookups go by "kid" so keys can be rotated, and every refusal is an `ExchangeError` whose `code`
is a short machine word. Replay is the caller's job: see `open_sealed`.
"""

import base64
import binascii
import json
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from joserfc import jwe, jws
from joserfc.errors import BadSignatureError, UnsupportedAlgorithmError
from joserfc.jwa import JWSAlgModel
from joserfc.jwe import JWERegistry
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter, is_str

VERSION: Final = "tipline-exchange/1"
MAX_AGE_S: Final = 600  # a transmission is valid 10 minutes after iat
CLOCK_SKEW_S: Final = 60
MESSAGE_TYPES: Final = ("report", "status", "receipt")

#: Largest signed claims set, in bytes of JSON. joserfc's defaults (128 kB for a JWS payload,
#: 64 kB for a JWE ciphertext) are too small for a report with its observables.
MAX_CLAIMS_BYTES: Final = 1_000_000

ERROR_CODES: Final = (
    "malformed",
    "unknown_sender",
    "bad_signature",
    "not_for_us",
    "expired",
    "replayed",
    "unknown_key",
    "bad_claims",
)

SIGNING_ALG: Final = "EdDSA"
KEY_AGREEMENT_ALG: Final = "ECDH-ES"
CONTENT_ENC: Final = "A256GCM"
_CURVE_OF_USE: Final[Mapping[str, Literal["Ed25519", "X25519"]]] = {
    "sig": "Ed25519",
    "enc": "X25519",
}
_ALG_OF_USE: Final = {"sig": SIGNING_ALG, "enc": KEY_AGREEMENT_ALG}
_PUBLIC_MEMBERS: Final = ("kty", "crv", "x", "kid", "use", "alg")
# Members a JWS header of ours may carry: refusing the rest keeps out "crit"/"b64" (RFC 7797,
# unencoded payloads), "jwk"/"jku" (keys supplied by the token itself) and the like.
_JWS_HEADER_MEMBERS: Final = frozenset({"alg", "kid", "typ", "cty"})
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")
# A sealed claims set grows by base64 twice (JWS, then JWE) plus headers, signature and tag.
_MAX_TOKEN_CHARS: Final = MAX_CLAIMS_BYTES * 16 // 9 + 8192


class ExchangeError(Exception):
    """Why a message was refused: `code` is a short machine word (one of `ERROR_CODES`), str(e) a
    clear sentence for logs and the HTTP answer."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown exchange error code {code!r}")
        super().__init__(message)
        self.code = code


class _EdDSAOnlyRegistry(JWSRegistry):
    """A JWS registry that knows one algorithm, EdDSA, and does not warn about it.

    joserfc (1.8 here) emits a SecurityWarning on every use of "EdDSA" because RFC 9864 deprecates
    that polymorphic name in favour of "Ed25519". Our wire format says "EdDSA" (RFC 8037, what
    partners' libraries speak) and our keys are Ed25519 only, so the warning asks nothing of us;
    narrowing the registry instead of filtering warnings keeps the process-wide filters alone.
    """

    def get_alg(self, name: str) -> JWSAlgModel:
        if name != SIGNING_ALG:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


def _jws_registry() -> JWSRegistry:
    registry = _EdDSAOnlyRegistry(algorithms=[SIGNING_ALG])
    # Bounds the decoded payload and (summed with header and signature) the compact string,
    # which is 4/3 of the payload: size by the token limit, MAX_CLAIMS_BYTES is checked in _sign.
    registry.max_payload_length = _MAX_TOKEN_CHARS
    return registry


def _jwe_registry() -> JWERegistry:
    # ECDH-ES and A256GCM are both "recommended" in joserfc, but naming them makes the registry
    # refuse everything else ("dir", RSA1_5, PBES2, "zip", ...) whatever the default becomes.
    # The "iss" header member (RFC 7519 section 5.3) is not in joserfc's JWE header registry,
    # which is strict by default: register it.
    registry = JWERegistry(
        header_registry={"iss": HeaderParameter("Issuer (sender instance id)", is_str)},
        algorithms=[KEY_AGREEMENT_ALG, CONTENT_ENC],
    )
    registry.max_ciphertext_length = _MAX_TOKEN_CHARS
    return registry


_JWS_REGISTRY: Final = _jws_registry()
_JWE_REGISTRY: Final = _jwe_registry()


# -- keys ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    """One of our private keys. `jwk` is the private JWK as a dict (with kid, use, alg); `public`
    the public JWK dict. The private part is kept out of repr() so it never reaches a log."""

    kid: str
    use: str  # "sig" or "enc"
    jwk: dict[str, Any] = field(repr=False)

    def __post_init__(self) -> None:
        if self.use not in _CURVE_OF_USE:
            raise ValueError(f"key use must be 'sig' or 'enc', not {self.use!r}")
        expected = {
            "kty": "OKP",
            "crv": _CURVE_OF_USE[self.use],
            "kid": self.kid,
            "use": self.use,
            "alg": _ALG_OF_USE[self.use],
        }
        for name, value in expected.items():
            if self.jwk.get(name) != value:
                raise ValueError(
                    f"key {self.kid!r}: JWK member {name!r} is {self.jwk.get(name)!r}, "
                    f"expected {value!r}"
                )
        if not isinstance(self.jwk.get("d"), str):
            raise ValueError(f"key {self.kid!r}: the JWK has no private member 'd'")

    @property
    def public(self) -> dict[str, Any]:
        return {name: self.jwk[name] for name in _PUBLIC_MEMBERS}


def _new_key(now: datetime, use: str) -> KeyPair:
    # Date first so an operator can tell keys apart at a glance; 48 random bits make it unique.
    kid = f"{use}-{_utc_date(now)}-{secrets.token_hex(6)}"
    key = OKPKey.generate_key(
        _CURVE_OF_USE[use],
        parameters={"kid": kid, "use": use, "alg": _ALG_OF_USE[use]},
        private=True,
    )
    return KeyPair(kid=kid, use=use, jwk=dict(key.as_dict(private=True)))


def new_signing_key(now: datetime) -> KeyPair:
    """A fresh Ed25519 key for signing (alg EdDSA, use sig), kid "sig-YYYYMMDD-<random>"."""
    return _new_key(now, "sig")


def new_encryption_key(now: datetime) -> KeyPair:
    """A fresh X25519 key to be encrypted to (alg ECDH-ES, use enc), kid "enc-YYYYMMDD-<random>"."""
    return _new_key(now, "enc")


def public_jwks(keys: Sequence[KeyPair]) -> dict[str, Any]:
    """The JWK Set we publish to partners: public members only, in the given order (a partner
    encrypts to the last "enc" key, so list the newest last)."""
    return {"keys": [key.public for key in keys]}


def check_public_jwks(data: Any) -> dict[str, Any]:
    """Validate a partner's JWK Set and return a normalised copy (only the public members,
    order kept). Refuses anything but Ed25519 "sig" and X25519 "enc" OKP keys, each with a
    unique kid, and requires at least one key of each use."""
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise ExchangeError("malformed", 'a JWK Set must be a JSON object with a "keys" list')
    normalised: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, entry in enumerate(data["keys"], start=1):
        key = _check_public_jwk(entry, position)
        if key["kid"] in seen:
            raise ExchangeError("malformed", f"the JWK Set lists kid {_show(key['kid'])} twice")
        seen.add(key["kid"])
        normalised.append(key)
    for use, purpose in (("sig", "signing"), ("enc", "encryption")):
        if not any(key["use"] == use for key in normalised):
            raise ExchangeError(
                "malformed", f'the JWK Set has no {purpose} key (use "{use}"); it needs one'
            )
    return {"keys": normalised}


def _check_public_jwk(entry: Any, position: int) -> dict[str, Any]:
    where = f"key #{position} of the JWK Set"
    if not isinstance(entry, Mapping):
        raise ExchangeError("malformed", f"{where} is not a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ExchangeError("malformed", f'{where} has no "kid"; every key needs one')
    where = f"key {_show(kid)}"
    if "d" in entry:
        raise ExchangeError(
            "malformed",
            f'{where} includes the private member "d": a partner must send public keys only '
            "(and should now treat that private key as disclosed and replace it)",
        )
    if entry.get("kty") != "OKP":
        raise ExchangeError("malformed", f'{where} has kty {_show(entry.get("kty"))}; only "OKP"')
    use = entry.get("use")
    if not isinstance(use, str) or use not in _CURVE_OF_USE:
        raise ExchangeError("malformed", f'{where} has use {_show(use)}; expected "sig" or "enc"')
    if entry.get("crv") != _CURVE_OF_USE[use]:
        raise ExchangeError(
            "malformed",
            f"{where} (use {_show(use)}) is on curve {_show(entry.get('crv'))}; "
            f"expected {_CURVE_OF_USE[use]!r}",
        )
    if "alg" in entry and entry["alg"] != _ALG_OF_USE[use]:
        raise ExchangeError(
            "malformed", f"{where} has alg {_show(entry['alg'])}; expected {_ALG_OF_USE[use]!r}"
        )
    x = entry.get("x")
    if not isinstance(x, str) or len(_b64decode(x, where=f'{where} member "x"')) != 32:
        raise ExchangeError("malformed", f'{where} has no valid 32-byte public value "x"')
    return {
        "kty": "OKP",
        "crv": entry["crv"],
        "x": x,
        "kid": kid,
        "use": use,
        "alg": _ALG_OF_USE[use],
    }


def _sender_key(sender_jwks: Mapping[str, Any], kid: str) -> OKPKey:
    """The sender's public signing key named `kid`, or "unknown_key"."""
    keys = sender_jwks.get("keys") if isinstance(sender_jwks, Mapping) else None
    for position, entry in enumerate(keys if isinstance(keys, list) else [], start=1):
        if isinstance(entry, Mapping) and entry.get("kid") == kid and entry.get("use") == "sig":
            return OKPKey.import_key(_check_public_jwk(entry, position))
    raise ExchangeError(
        "unknown_key",
        f"the signature names key {_show(kid)}, which is not among the sender's signing keys",
    )


# -- messages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a transmission carries once opened and checked."""

    type: str  # in MESSAGE_TYPES
    iss: str  # sender instance id, e.g. "tipline.fr.example"
    aud: str  # receiver instance id
    jti: str  # unique per transmission (a retry has a new jti)
    envelope_id: str  # stable across retries of one dispatch: what the receiver de-duplicates on
    iat: int
    exp: int
    body: dict[str, Any]
    in_reply_to: str = ""  # for status/receipt: what it answers


def seal(
    *,
    type: str,  # shadows the builtin on purpose: the claim's name, as in Message.type
    iss: str,
    aud: str,
    envelope_id: str,
    body: Mapping[str, Any],
    signing_key: KeyPair,
    recipient_jwks: Mapping[str, Any],
    now: datetime,
    in_reply_to: str = "",
    jti: str | None = None,
) -> str:
    """Sign the claims with `signing_key`, encrypt them to the recipient's newest encryption key
    (the last "enc" key of `recipient_jwks`) and return the JWE compact string.

    Raises ValueError for arguments no receiver would accept (unknown type, empty ids, a body too
    large) and ExchangeError("malformed") if `recipient_jwks` is not a valid partner key set.
    """
    if type not in MESSAGE_TYPES:
        raise ValueError(f"message type must be one of {MESSAGE_TYPES}, not {type!r}")
    if type != "report" and not in_reply_to:
        raise ValueError(f"a {type} message needs in_reply_to")
    jti = uuid.uuid4().hex if jti is None else jti
    for name, value in (("iss", iss), ("aud", aud), ("envelope_id", envelope_id), ("jti", jti)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
    enc_keys = [key for key in check_public_jwks(recipient_jwks)["keys"] if key["use"] == "enc"]
    recipient = enc_keys[-1]
    iat = _epoch(now)
    claims: dict[str, Any] = {
        "v": VERSION,
        "type": type,
        "iss": iss,
        "aud": aud,
        "jti": jti,
        "envelope_id": envelope_id,
        "iat": iat,
        "exp": iat + MAX_AGE_S,
    }
    if in_reply_to:
        claims["in_reply_to"] = in_reply_to
    claims["body"] = dict(body)
    signed = _sign(claims, signing_key)
    header = {
        "alg": KEY_AGREEMENT_ALG,
        "enc": CONTENT_ENC,
        "kid": recipient["kid"],
        "cty": "JWT",
        "iss": iss,
    }
    public = OKPKey.import_key(recipient)
    return jwe.encrypt_compact(header, signed, public, registry=_JWE_REGISTRY)


def sender_of(token: str) -> str:
    """The sender's instance id ("iss" of the JWE protected header), read without decrypting, so
    the receiver can pick the sender's keys or answer "unknown sender" early. Unauthenticated
    until `open_sealed` has checked it against the signed claims."""
    header = _jwe_header(_split(token, 5, "transmission"))
    iss = header.get("iss")
    if not isinstance(iss, str) or not iss:
        raise ExchangeError("malformed", 'the transmission header does not name its sender ("iss")')
    return iss


def open_sealed(
    token: str,
    *,
    own_keys: Sequence[KeyPair],
    sender_jwks: Mapping[str, Any],
    expected_iss: str,
    own_id: str,
    now: datetime,
) -> Message:
    """Decrypt a transmission with our key named by its "kid", verify the sender's signature with
    the sender's key named by the signature's "kid", check the claims, and return the message.

    Replay is NOT checked here: the caller must refuse ("replayed") a (iss, jti) pair it has
    already accepted, remembering each until `exp + CLOCK_SKEW_S` (past that, this function
    refuses the token as expired anyway), and de-duplicate retries on (iss, envelope_id).
    """
    parts = _split(token, 5, "transmission")
    header = _jwe_header(parts)
    if header.get("alg") != KEY_AGREEMENT_ALG or header.get("enc") != CONTENT_ENC:
        raise ExchangeError(
            "malformed",
            f"the transmission uses alg {_show(header.get('alg'))} and enc "
            f"{_show(header.get('enc'))}; only {KEY_AGREEMENT_ALG!r} with {CONTENT_ENC!r} "
            "is accepted",
        )
    if header.get("cty") != "JWT":
        raise ExchangeError("malformed", 'the transmission does not carry a signed JWT ("cty")')
    if parts[1]:
        # ECDH-ES agrees on the content key directly: an encrypted key has no place here.
        raise ExchangeError("malformed", "the transmission carries an unexpected encrypted key")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ExchangeError("malformed", 'the transmission header does not name our key ("kid")')
    own = next((key for key in own_keys if key.use == "enc" and key.kid == kid), None)
    if own is None:
        raise ExchangeError(
            "unknown_key",
            f"the transmission is encrypted to key {_show(kid)}, which this instance does not hold "
            "(retired, or meant for another instance)",
        )
    private = OKPKey.import_key(own.jwk)
    try:
        plaintext = jwe.decrypt_compact(token, private, registry=_JWE_REGISTRY).plaintext
        inner = (plaintext or b"").decode("ascii")
    except Exception as error:
        # Broad on purpose: joserfc parses the attacker's header (epk, ...) and lets KeyError,
        # TypeError and the like escape besides its JoseError. Whatever it raises, the token
        # could not be decrypted, and refusing is the only safe answer.
        raise ExchangeError(
            "malformed", f"the transmission could not be decrypted with key {_show(kid)}"
        ) from error
    claims = _verify(inner, sender_jwks)
    message = _message(claims, expected_iss=expected_iss, own_id=own_id, now=now)
    if header.get("iss") != message.iss:
        raise ExchangeError(
            "bad_claims",
            f"the transmission header names sender {_show(header.get('iss'))} but the signed "
            f"claims name {_show(message.iss)}",
        )
    return message


# -- receipts ------------------------------------------------------------------------------------


def sign_receipt(
    *,
    iss: str,
    aud: str,
    envelope_id: str,
    acknowledges_jti: str,
    body: Mapping[str, Any],
    signing_key: KeyPair,
    now: datetime,
) -> str:
    """A signed (not encrypted: it reveals nothing but ids) receipt from `iss`, the receiver of a
    transmission, to `aud`, its sender, acknowledging transmission `acknowledges_jti` of envelope
    `envelope_id`. `body` says what became of it, e.g. {"status": "received", "reference": ...}.
    """
    for name, value in (
        ("iss", iss),
        ("aud", aud),
        ("envelope_id", envelope_id),
        ("acknowledges_jti", acknowledges_jti),
    ):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
    iat = _epoch(now)
    claims = {
        "v": VERSION,
        "type": "receipt",
        "iss": iss,
        "aud": aud,
        "jti": uuid.uuid4().hex,
        "envelope_id": envelope_id,
        "in_reply_to": acknowledges_jti,
        "iat": iat,
        "exp": iat + MAX_AGE_S,
        "body": dict(body),
    }
    return _sign(claims, signing_key)


def verify_receipt(
    token: str,
    *,
    sender_jwks: Mapping[str, Any],
    expected_iss: str,
    own_id: str,
    envelope_id: str,
    acknowledges_jti: str | None,
    now: datetime,
) -> Message:
    """Verify a receipt from `expected_iss` to us (`own_id`) for `envelope_id` and, when given,
    for transmission `acknowledges_jti`; return it as a Message of type "receipt"."""
    claims = _verify(token, sender_jwks)
    message = _message(claims, expected_iss=expected_iss, own_id=own_id, now=now)
    if message.type != "receipt":
        raise ExchangeError(
            "bad_claims", f"expected a receipt, got a {_show(message.type)} message"
        )
    if message.envelope_id != envelope_id:
        raise ExchangeError(
            "bad_claims",
            f"the receipt acknowledges envelope {_show(message.envelope_id)}, not {envelope_id!r}",
        )
    if acknowledges_jti is not None and message.in_reply_to != acknowledges_jti:
        raise ExchangeError(
            "bad_claims",
            f"the receipt acknowledges transmission {_show(message.in_reply_to)}, "
            f"not {acknowledges_jti!r}",
        )
    return message


# -- internals -----------------------------------------------------------------------------------


def _sign(claims: Mapping[str, Any], signing_key: KeyPair) -> str:
    if signing_key.use != "sig":
        raise ValueError(f"key {signing_key.kid!r} is not a signing key")
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    data = payload.encode("utf-8")
    if len(data) > MAX_CLAIMS_BYTES:
        raise ValueError(f"the message is {len(data)} bytes; the limit is {MAX_CLAIMS_BYTES}")
    header = {"alg": SIGNING_ALG, "kid": signing_key.kid, "typ": "JWT"}
    private = OKPKey.import_key(signing_key.jwk)
    return jws.serialize_compact(header, data, private, registry=_JWS_REGISTRY)


def _verify(token: str, sender_jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of a JWS signed by one of the sender's keys (picked by the JWS "kid")."""
    parts = _split(token, 3, "signed message")
    header = _json_object(parts[0], "signature header")
    alg = header.get("alg")
    if alg != SIGNING_ALG:
        raise ExchangeError(
            "bad_signature",
            f"the signature uses algorithm {_show(alg)}; only {SIGNING_ALG!r} is accepted",
        )
    unexpected = sorted(set(header) - _JWS_HEADER_MEMBERS)
    if unexpected:
        raise ExchangeError(
            "malformed", f"the signature header has unexpected members {unexpected}"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ExchangeError("malformed", 'the signature header does not name its key ("kid")')
    key = _sender_key(sender_jwks, kid)
    try:
        jws.deserialize_compact(token, key, registry=_JWS_REGISTRY)
    except BadSignatureError as error:
        raise ExchangeError(
            "bad_signature", f"the signature does not verify with the sender's key {_show(kid)}"
        ) from error
    except Exception as error:  # as in open_sealed: any other failure is a refusal
        raise ExchangeError("malformed", "the signed message could not be read") from error
    return _json_object(parts[1], "signed claims")


def _message(
    claims: Mapping[str, Any], *, expected_iss: str, own_id: str, now: datetime
) -> Message:
    """Check verified claims against who we expect them from, who we are, and the time."""
    if claims.get("v") != VERSION:
        raise ExchangeError(
            "bad_claims", f"the message is version {_show(claims.get('v'))}; we speak {VERSION!r}"
        )
    for name in ("type", "iss", "aud", "jti", "envelope_id"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise ExchangeError("bad_claims", f"claim {name!r} is missing or not a string")
    for name in ("iat", "exp"):
        value = claims.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ExchangeError("bad_claims", f"claim {name!r} is missing or not an integer")
    if not isinstance(claims.get("body"), dict):
        raise ExchangeError("bad_claims", "claim 'body' is missing or not an object")
    in_reply_to = claims.get("in_reply_to", "")
    if not isinstance(in_reply_to, str):
        raise ExchangeError("bad_claims", "claim 'in_reply_to' is not a string")
    message = Message(
        type=claims["type"],
        iss=claims["iss"],
        aud=claims["aud"],
        jti=claims["jti"],
        envelope_id=claims["envelope_id"],
        iat=claims["iat"],
        exp=claims["exp"],
        body=claims["body"],
        in_reply_to=in_reply_to,
    )
    if message.type not in MESSAGE_TYPES:
        raise ExchangeError("bad_claims", f"unknown message type {_show(message.type)}")
    if message.type != "report" and not message.in_reply_to:
        raise ExchangeError("bad_claims", f"a {message.type} message needs 'in_reply_to'")
    if message.iss != expected_iss:
        raise ExchangeError(
            "bad_claims", f"the message is from {_show(message.iss)}, expected {expected_iss!r}"
        )
    if message.aud != own_id:
        raise ExchangeError(
            "not_for_us",
            f"the message is addressed to {_show(message.aud)}, not to us ({own_id!r})",
        )
    # A bounded lifetime bounds how long the caller must remember jtis to stop replays.
    if not 0 < message.exp - message.iat <= MAX_AGE_S:
        raise ExchangeError(
            "bad_claims", f"the message's lifetime (exp - iat) must be 1 to {MAX_AGE_S} seconds"
        )
    current = _epoch(now)
    if message.iat > current + CLOCK_SKEW_S:
        raise ExchangeError(
            "expired",
            f"the message is issued {message.iat - current} s in the future "
            f"(more than the {CLOCK_SKEW_S} s of clock skew tolerated)",
        )
    if current > message.exp + CLOCK_SKEW_S:
        raise ExchangeError(
            "expired", f"the message expired {current - message.exp} s ago (at {message.exp})"
        )
    return message


def _split(token: Any, count: int, what: str) -> list[str]:
    if not isinstance(token, str):
        raise ExchangeError("malformed", f"the {what} is not text")
    if len(token) > _MAX_TOKEN_CHARS:
        raise ExchangeError("malformed", f"the {what} is larger than {_MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != count:
        raise ExchangeError(
            "malformed", f"the {what} has {len(parts)} dot-separated parts; expected {count}"
        )
    for part in parts:
        # Canonical base64url only, so that no two strings carry the same bytes: a token cannot
        # be altered, even in unused low bits, and still be accepted. joserfc 1.8's decoder is
        # strict too; checking here keeps that true whatever the library does, with a clear word.
        _b64decode(part, where=f"the {what}")
    return parts


def _jwe_header(parts: Sequence[str]) -> dict[str, Any]:
    return _json_object(parts[0], "transmission header")


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(part, where=f"the {what}"))
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        raise ExchangeError("malformed", f"the {what} is not valid JSON") from error
    if not isinstance(value, dict):
        raise ExchangeError("malformed", f"the {what} is not a JSON object")
    return value


def _b64decode(part: str, *, where: str) -> bytes:
    if not _B64URL.fullmatch(part):
        raise ExchangeError("malformed", f"{where} is not base64url")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as error:
        raise ExchangeError("malformed", f"{where} is not base64url") from error
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != part:
        raise ExchangeError("malformed", f"{where} is not canonical base64url")
    return data


def _show(value: Any) -> str:
    """A value from the wire, quoted for a refusal message and cut short: errors go to logs."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _epoch(now: datetime) -> int:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return int(now.timestamp())


def _utc_date(now: datetime) -> str:
    _epoch(now)  # refuses a naive datetime
    return now.astimezone(UTC).strftime("%Y%m%d")
