"""Orient test helpers: a page reported and carried through the pipeline, hosting stated,
staff users, and partner hotlines with real keys."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tipline.analyze.services import hosting_record_by_hand
from tipline.harmonize.models import Item
from tipline.intake import core, services
from tipline.intake.choices import Channel
from tipline.orient import exchange
from tipline.orient.models import Destination
from tipline.orient.services import partner_save

from ..conftest import drain, staff_user

AD = (
    "Nouvelle en ville, dispo ce soir, elle reçoit à l'hôtel, 100 roses/30 min. "
    "Appelez son manager au 01 99 00 12 34"
)


def report_page(url: str, *, excerpt: str = AD, category: str = "trafficking") -> Item:
    """A public report of one page, through every stage; returns its item."""
    draft = core.parse_report(
        {"urls": [url], "excerpt": excerpt, "category": category}, max_media_bytes=1024
    )
    [outcome] = services.reports_receive(drafts=[(0, draft)], channel=Channel.PUBLIC)
    drain()
    return Item.objects.get(report_links__report_id=outcome.report_id, kind="url")  # type: ignore[union-attr]


def hosted(host: str, country: str, abuse: str = "") -> None:
    """Where a host is served from, as an analyst states it; its items are routed again."""
    hosting_record_by_hand(host=host, country=country, abuse_email=abuse)
    drain()


@pytest.fixture
def analyst(db: Any) -> User:
    return staff_user("ana", "analyst")  # type: ignore[no-any-return]


@pytest.fixture
def senior(db: Any) -> User:
    return staff_user("sam", "senior_analyst")  # type: ignore[no-any-return]


def partner_keys() -> tuple[exchange.KeyPair, exchange.KeyPair]:
    from django.utils import timezone

    now = timezone.now()
    return exchange.new_signing_key(now), exchange.new_encryption_key(now)


@pytest.fixture
def partner_de(db: Any) -> tuple[Destination, list[exchange.KeyPair]]:
    """A partner hotline in Germany (fictional), with keys only the test holds."""
    pair = list(partner_keys())
    dest = partner_save(
        code="partner-de",
        name="Beispiel-Meldestelle (fictional partner)",
        country="DE",
        endpoint_url="http://127.0.0.1:9/api/v1/exchange/inbox",
        instance_id="tipline.de.example",
        jwks=exchange.public_jwks(pair),
    )
    return dest, pair
