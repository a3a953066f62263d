"""This instance's keys for the partner exchange: created on first run, rotated on demand.
The newest key of each use is current; retired keys still open messages for a while, so
partners that have not fetched our new public keys yet are not refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tipline.common.audit import audit_record

from . import exchange
from .models import InstanceKey

# How long a retired key still decrypts and verifies: partners re-read our keys weekly.
RETIRED_KEY_GRACE = timedelta(days=14)


def instance_keys_ensure() -> None:
    """Make sure a current signing and encryption key exist (first run)."""
    now = timezone.now()
    for use, make in (("sig", exchange.new_signing_key), ("enc", exchange.new_encryption_key)):
        if not InstanceKey.objects.filter(use=use, retired_at__isnull=True).exists():
            pair = make(now)
            InstanceKey.objects.create(kid=pair.kid, use=use, private_jwk=pair.jwk, created_at=now)


@transaction.atomic
def instance_keys_rotate() -> list[str]:
    """New current keys; the old ones retire (kept for RETIRED_KEY_GRACE). Returns the
    new key ids. Partners must be given the new public keys (`tipline keys show`)."""
    now = timezone.now()
    InstanceKey.objects.filter(retired_at__isnull=True).update(retired_at=now)
    kids = []
    for use, make in (("sig", exchange.new_signing_key), ("enc", exchange.new_encryption_key)):
        pair = make(now)
        InstanceKey.objects.create(kid=pair.kid, use=use, private_jwk=pair.jwk, created_at=now)
        kids.append(pair.kid)
    audit_record(
        actor="tipline keys rotate", action="keys.rotate", target="keys", detail={"new": kids}
    )
    return kids


def _usable(now: datetime | None = None) -> list[InstanceKey]:
    now = now or timezone.now()
    rows = InstanceKey.objects.order_by("created_at", "id")
    return [r for r in rows if r.retired_at is None or r.retired_at > now - RETIRED_KEY_GRACE]


def own_keys() -> list[exchange.KeyPair]:
    """Every key that may still open a message sent to us, oldest first."""
    instance_keys_ensure()
    return [exchange.KeyPair(kid=r.kid, use=r.use, jwk=r.private_jwk) for r in _usable()]


def signing_key() -> exchange.KeyPair:
    instance_keys_ensure()
    row = (
        InstanceKey.objects.filter(use="sig", retired_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    assert row is not None  # just ensured
    return exchange.KeyPair(kid=row.kid, use=row.use, jwk=row.private_jwk)


def public_jwks() -> dict[str, Any]:
    """Our public keys as partners need them: current ones last, so they encrypt to it."""
    keys = own_keys()
    retired = set(
        InstanceKey.objects.filter(retired_at__isnull=False).values_list("kid", flat=True)
    )
    return exchange.public_jwks(sorted(keys, key=lambda k: (k.kid not in retired, keys.index(k))))
