"""Encryption at rest of reporters' personal data, with the keys in TIPLINE_DATA_KEYS.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a MultiFernet: the first
key encrypts, every key decrypts, so a new key goes first and the old ones stay until
`tipline datakeys rotate` has re-encrypted every value with the new one.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DataKeyError(Exception):
    """A value cannot be decrypted with the configured keys, or there are none."""


def generate_key() -> str:
    """A new data key (32 random bytes, URL-safe base64), as Fernet expects."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@functools.lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    if not keys:
        raise DataKeyError("no data key: set TIPLINE_DATA_KEYS (see docs/deployment.md)")
    fernets = [Fernet(k.encode()) for k in keys]
    return fernets[0], MultiFernet(fernets)


def _keys() -> tuple[Fernet, MultiFernet]:
    return _fernets(tuple(settings.DATA_KEYS))


def encrypt(text: str) -> str:
    return _keys()[1].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys()[1].decrypt(token.encode()).decode()
    except InvalidToken:
        raise DataKeyError(
            "reporter data cannot be decrypted with the keys in TIPLINE_DATA_KEYS: the key "
            "that encrypted it is missing (keep old keys after the new one until `tipline "
            "datakeys rotate` has run) or the stored value was altered"
        ) from None


def is_current(token: str) -> bool:
    """Whether `token` is encrypted with the newest key (nothing to rotate)."""
    try:
        _keys()[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotated(token: str) -> str | None:
    """`token` encrypted again with the newest key, or None when it already is."""
    if is_current(token):
        return None
    try:
        return _keys()[1].rotate(token.encode()).decode()
    except InvalidToken:
        raise DataKeyError(
            "a stored value cannot be decrypted with any key in TIPLINE_DATA_KEYS"
        ) from None
