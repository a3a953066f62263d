"""Receipt codes: what a reporter keeps to look up their report's state, and nothing more."""

from __future__ import annotations

import base64
import secrets

# Crockford's base32: no I, L, O, U, so a code read aloud or retyped survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # 80 bits: not guessable, even by someone trying millions of codes.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def new_receipt() -> str:
    # 10 random bytes are exactly 16 base32 characters; RFC 4648's alphabet mapped to ours.
    return base64.b32encode(secrets.token_bytes(10)).decode().translate(_FROM_RFC4648)


def normalize_receipt(text: str) -> str | None:
    """The canonical code for what a person typed (any case, dashes, spaces), or None."""
    code = "".join(ch for ch in text.upper() if ch not in "- \t").translate(_CONFUSABLE)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def format_receipt(code: str) -> str:
    """ABCD-EFGH-JKMN-PQRS: easier to copy by hand."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
