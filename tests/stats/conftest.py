"""A small fixed data set with exact timestamps, written straight into the other stages'
tables, and the figures it must give, computed by hand below (never by the code under
test). It straddles 31 Dec 2025 / 1 Jan 2026 (ISO week 2026-W01 runs from Monday
2025-12-29), leaves February 2026 empty, and ends in ISO week 2026-W53.

Reports (received, channel, theme):
  R1  2025-12-31 23:30 public   csam         → I1
  R2  2026-01-01 00:10 provider csam         → I1 again
  R3  2026-01-01 09:00 public   trafficking  → I2
  R4  2026-01-03 10:00 provider trafficking  → I3
  R5  2026-01-05 12:00 partner  csam         → I4
  R6  2026-01-15 08:00 public   fraud        → I5
  R7  2026-01-20 08:00 public   (not harmonized yet)
  R8  2026-03-02 10:00 provider csam         → I6
  R9  2026-03-10 10:00 public   trafficking  → I7
  R10 2026-12-30 22:00 provider csam         → I8
  R11 2027-01-01 01:00 public   other        → I9

Items (kind, first reported, assessed after, classification, priority, hosting, routing):
  I1 url   2025-12-31 23:30  2 h   baseline     P1  NL
  I2 url   2026-01-01 09:00  24 h  national     P2  FR
  I3 url   2026-01-03 10:00  4 d   not_illegal  P3  FR  closed not_illegal
  I4 media 2026-01-05 12:00  —     —            P4  —   known content, closed as known
  I5 url   2026-01-15 08:00  30 min doubtful    P4  unknown country
  I6 url   2026-03-02 10:00  10 d  baseline     P2  US
  I7 url   2026-03-10 10:00  —     —            P3  DE  waiting
  I8 url   2026-12-30 22:00  —     —            P1  NL  waiting
  I9 text  2027-01-01 01:00  —     —            no routing yet

The figures are computed as of NOW, 2027-01-02 12:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tipline.analyze.models import HostingLookup
from tipline.crossref.models import Membership, Network
from tipline.harmonize.models import Harmonization, Item
from tipline.intake.models import Report
from tipline.orient.models import Destination, Dispatch, Routing, Takedown

NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)
H = 3600
D = 86400


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def report(n: int, received: str, channel: str, theme: str | None) -> Report:
    r = Report.objects.create(
        channel=channel,
        received_at=at(received),
        receipt=f"R{n:015d}",
        payload={},
        payload_sha256="0" * 64,
    )
    if theme is not None:
        Harmonization.objects.create(
            report=r, theme=theme, category_source="public_form", harmonized_at=at(received)
        )
    return r


def item(
    n: int,
    kind: str,
    first: str,
    theme: str,
    *,
    assessed_after: float | None = None,
    classification: str = "unassessed",
    priority: str | None = "P4",
    country: str = "",
    close_as: str = "",
    known: bool = False,
    host: str = "",
) -> Item:
    first_at = at(first)
    i = Item.objects.create(
        kind=kind,
        key=f"{n:064d}",
        url=f"https://{host or 'site.example'}/{n}" if kind == "url" else "",
        host=host,
        theme=theme,
        classification=classification,
        assessed_at=first_at + timedelta(seconds=assessed_after)
        if assessed_after is not None
        else None,
        needs_assessment=assessed_after is None,
        report_count=1,
        first_reported_at=first_at,
        last_reported_at=first_at,
    )
    if priority is not None:
        # An older decision, replaced: only the current one counts.
        Routing.objects.create(
            item=i,
            facts={},
            facts_key="old",
            reason="old",
            priority="P1",
            hosting_country="ZZ",
            is_current=False,
            decided_at=first_at,
        )
        Routing.objects.create(
            item=i,
            facts={},
            facts_key="current",
            reason="test",
            priority=priority,
            hosting_country=country,
            known_content=known,
            close_as=close_as,
            is_current=True,
            decided_at=first_at,
        )
    return i


def dispatch(
    i: Item,
    dest: Destination,
    kind: str,
    state: str,
    created: str,
    sent: str | None = None,
    sequence: int = 1,
) -> Dispatch:
    return Dispatch.objects.create(
        item=i,
        destination=dest,
        kind=kind,
        state=state,
        created_at=at(created),
        sent_at=at(sent) if sent else None,
        sequence=sequence,
    )


@pytest.fixture
def data(db: Any) -> dict[str, Any]:
    report(1, "2025-12-31 23:30", "public", "csam")
    report(2, "2026-01-01 00:10", "provider", "csam")
    report(3, "2026-01-01 09:00", "public", "trafficking")
    report(4, "2026-01-03 10:00", "provider", "trafficking")
    report(5, "2026-01-05 12:00", "partner", "csam")
    report(6, "2026-01-15 08:00", "public", "fraud")
    report(7, "2026-01-20 08:00", "public", None)
    report(8, "2026-03-02 10:00", "provider", "csam")
    report(9, "2026-03-10 10:00", "public", "trafficking")
    report(10, "2026-12-30 22:00", "provider", "csam")
    report(11, "2027-01-01 01:00", "public", "other")

    i1 = item(
        1,
        "url",
        "2025-12-31 23:30",
        "csam",
        assessed_after=2 * H,
        classification="baseline",
        priority="P1",
        country="NL",
        host="one.example",
    )
    i2 = item(
        2,
        "url",
        "2026-01-01 09:00",
        "trafficking",
        assessed_after=24 * H,
        classification="national",
        priority="P2",
        country="FR",
        host="ads.example",
    )
    i3 = item(
        3,
        "url",
        "2026-01-03 10:00",
        "trafficking",
        assessed_after=4 * D,
        classification="not_illegal",
        priority="P3",
        country="FR",
        close_as="not_illegal",
        host="ads.example",
    )
    i4 = item(4, "media", "2026-01-05 12:00", "csam", priority="P4", known=True, close_as="known")
    i5 = item(
        5,
        "url",
        "2026-01-15 08:00",
        "fraud",
        assessed_after=30 * 60,
        classification="doubtful",
        priority="P4",
        country="",
        host="shop.example",
    )
    i6 = item(
        6,
        "url",
        "2026-03-02 10:00",
        "csam",
        assessed_after=10 * D,
        classification="baseline",
        priority="P2",
        country="US",
        host="pics.example",
    )
    i7 = item(
        7, "url", "2026-03-10 10:00", "trafficking", priority="P3", country="DE", host="ads.example"
    )
    i8 = item(
        8, "url", "2026-12-30 22:00", "csam", priority="P1", country="NL", host="files.example"
    )
    item(9, "text", "2027-01-01 01:00", "other", priority=None)

    police = Destination.objects.create(kind="office", code="police", name="Police")
    partner = Destination.objects.create(kind="partner", code="partner-nl", name="Partner NL")
    host = Destination.objects.create(kind="host", code="host-ads", name="Abuse desk")
    dispatch(i2, police, "dispatch", "sent", "2026-01-02 09:00", "2026-01-02 11:00")
    dispatch(i2, host, "notice", "sent", "2026-01-02 09:00", "2026-01-02 09:05")
    dispatch(i2, host, "notice", "sent", "2026-01-03 09:05", "2026-01-03 09:05", sequence=2)
    dispatch(i6, partner, "dispatch", "acknowledged", "2026-03-12 10:00", "2026-03-12 10:30")
    dispatch(i6, police, "dispatch", "proposed", "2026-03-12 10:00")
    dispatch(i8, police, "dispatch", "pending", "2026-12-31 10:00")
    dispatch(i3, police, "dispatch", "cancelled", "2026-01-07 10:00")
    dispatch(i1, police, "dispatch", "sent", "2026-01-01 02:00", "2026-01-01 02:30")
    Dispatch.objects.create(
        item=i8,
        address="duty@hotline.example",
        kind="alert",
        state="sent",
        created_at=at("2026-12-30 22:00"),
        sent_at=at("2026-12-30 22:01"),
    )

    def takedown(i: Item, host: str, opened: str, notice: str | None, removed: str | None) -> None:
        Takedown.objects.create(
            item=i,
            host=host,
            state="removed" if removed else "open",
            opened_at=at(opened),
            first_notice_at=at(notice) if notice else None,
            removed_at=at(removed) if removed else None,
        )

    takedown(i2, "ads.example", "2026-01-02 09:05", "2026-01-02 09:05", "2026-01-04 09:05")
    takedown(i6, "pics.example", "2026-03-12 11:00", "2026-03-12 11:00", "2026-03-20 11:00")
    takedown(i7, "ads.example", "2026-12-31 23:00", "2026-12-31 23:00", None)
    takedown(i8, "files.example", "2026-12-31 12:00", None, "2027-01-01 12:00")
    HostingLookup.objects.create(
        host="ads.example",
        country="FR",
        asn=64500,
        as_org="Old Name SA",
        looked_up_at=at("2025-06-01 00:00"),
    )
    HostingLookup.objects.create(
        host="ads.example",
        country="FR",
        asn=64500,
        as_org="Example Hosting SA",
        looked_up_at=at("2026-01-01 00:00"),
    )
    HostingLookup.objects.create(
        host="pics.example", country="US", asn=64501, as_org="", looked_up_at=at("2026-03-01 00:00")
    )

    n1 = Network.objects.create(
        created_at=at("2026-01-03 12:00"), updated_at=at("2026-01-03 12:00"), item_count=2
    )
    n2 = Network.objects.create(
        created_at=at("2026-03-11 00:00"), updated_at=at("2026-03-11 00:00"), item_count=2
    )
    Network.objects.create(
        created_at=at("2026-03-11 00:00"),
        updated_at=at("2026-03-11 00:00"),
        item_count=0,
        merged_into=n2,
    )
    Membership.objects.create(item=i2, network=n1)
    Membership.objects.create(item=i3, network=n1)
    Membership.objects.create(item=i6, network=n2)
    Membership.objects.create(item=i7, network=n2)
    return {"items": [i1, i2, i3, i4, i5, i6, i7, i8], "police": police}


@pytest.fixture
def refreshed(data: dict[str, Any]) -> dict[str, Any]:
    from tipline.stats.services import summaries_refresh

    summaries_refresh(full=True, now=NOW)
    return data
