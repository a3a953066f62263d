"""Console reads: the analysts' queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from tipline.analyze.models import BankMatch, Capture, IndicatorHit, ItemAnalysis, Observable
from tipline.common.models import AuditRecord
from tipline.crossref.models import Link, Membership
from tipline.harmonize.models import Item, MediaFile
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.intake.choices import Channel
from tipline.intake.models import Report, ReportMedia
from tipline.orient import selectors as orient
from tipline.orient.models import Destination, Routing

from .models import Exposure, Note, Preference

PRIORITY_RANK = Case(
    When(priority="P1", then=Value(1)),
    When(priority="P2", then=Value(2)),
    When(priority="P3", then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class QueueFilters:
    theme: str = ""
    priority: str = ""
    channel: str = ""
    country: str = ""
    network: int | None = None
    mine: bool = False


def queue_for_analyst(
    *, user: Any, filters: QueueFilters, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Items waiting for an assessment, by priority then age, each with its SLA (due
    time, time left or overdue), its claim and what routing is waiting for. Known content
    auto-handled today is counted apart: nobody needs to look at it."""
    now = timezone.now()
    # Walked from the waiting items (item_waiting_idx) to each one's current routing
    # (routing_item_current_idx, covering what is filtered on): the work follows the
    # queue's length, not the number of items. The page is chosen on ids, then read.
    waiting = Routing.objects.filter(is_current=True, item__needs_assessment=True).exclude(
        close_as__in=["known", "not_illegal"]
    )
    f = filters
    if f.theme:
        waiting = waiting.filter(item__theme=f.theme)
    if f.priority:
        waiting = waiting.filter(priority=f.priority)
    if f.country:
        waiting = waiting.filter(hosting_country=f.country.upper())
    if f.channel in Channel.values:
        # An item's channels are its reports' (Harmonize keeps the list), and the list is
        # in item_waiting_idx: the reports are not read.
        within = StrIndex(Cast("item__channels", TextField()), Value(json.dumps(f.channel)))
        waiting = waiting.filter(GreaterThan(within, 0))
    elif f.channel:
        waiting = waiting.none()
    if f.network is not None:
        members = Membership.objects.filter(network_id=f.network).values("item_id")
        waiting = waiting.filter(item_id__in=members)
    if f.mine:
        waiting = waiting.filter(item__claim__user=user, item__claim__expires_at__gt=now)
    total = waiting.count()
    ids = list(
        waiting.annotate(rank=PRIORITY_RANK)
        .order_by("rank", "item__first_reported_at", "item_id")
        .values_list("id", flat=True)[offset : offset + limit]
    )
    rows = Routing.objects.filter(id__in=ids).select_related("item", "item__claim__user")
    by_id = {r.id: r for r in rows}
    return {
        "total": total,
        "items": [_entry(by_id[i], now, user) for i in ids if i in by_id],
        # An index on decided_at of current known-content routings: today's are few.
        "known_auto_handled_today": Routing.objects.filter(
            is_current=True,
            known_content=True,
            hold=False,
            decided_at__gte=now.replace(hour=0, minute=0, second=0, microsecond=0),
        ).count(),
    }


def _entry(r: Routing, now: datetime, user: Any) -> dict[str, Any]:
    item: Item = r.item
    due = item.first_reported_at + timedelta(seconds=settings.CONSOLE_SLA_S.get(r.priority, 0))
    claim = getattr(item, "claim", None)
    live = claim is not None and claim.expires_at > now
    return {
        "item_id": item.id,
        "kind": item.kind,
        "url": item.url,
        "theme": item.theme,
        "priority": r.priority,
        "hosting_country": r.hosting_country,
        "first_reported_at": item.first_reported_at,
        "reports": item.report_count,
        "sla_due_at": due,
        "sla_seconds_left": round((due - now).total_seconds()),
        "overdue": due < now,
        "routing": r.reason,
        "claimed_by": claim.user.get_username() if live and claim else None,
        "claimed_by_me": bool(live and claim and claim.user_id == user.pk),
    }


def highlighted(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """`text` cut into (piece, indicator code or "") so the words that triggered an
    indicator can be marked; overlapping spans keep the first."""
    pieces: list[tuple[str, str]] = []
    at = 0
    for start, end, code in sorted(spans):
        if start < at or start >= end or end > len(text):
            continue
        if start > at:
            pieces.append((text[at:start], ""))
        pieces.append((text[start:end], code))
        at = end
    if at < len(text):
        pieces.append((text[at:], ""))
    return pieces


def item_page(*, item_id: int, user: Any) -> dict[str, Any] | None:
    """Everything an analyst needs on one item: its reports (reporters' details only for
    roles that may see them), hosting and captures, observables, indicators marked in
    the text, bank matches, the links that put it in a network and why, routing and
    dispatches, and its history."""
    item = Item.objects.filter(id=item_id).first()
    if item is None:
        return None
    reports = list(Report.objects.filter(report_items__item_id=item_id).order_by("id")[:50])
    hits: dict[int, list[tuple[int, int, str]]] = {}
    for h in IndicatorHit.objects.filter(report__in=reports, field="excerpt"):
        hits.setdefault(h.report_id, []).append((h.start, h.end, h.code))
    see_reporters = user.has_perm("intake.view_reporter")
    lookup = orient.hosting_for([item.host]).get(item.host) if item.host else None
    links = Link.objects.filter(Q(item_a_id=item_id) | Q(item_b_id=item_id)).order_by("-id")[:100]
    return {
        "item": item,
        "reports": [
            {
                "receipt": r.receipt,
                "channel": r.channel,
                "received_at": r.received_at,
                "category": r.category,
                "description": r.description,
                "excerpt": highlighted(r.excerpt, hits.get(r.pk, [])),
                "reporter": (
                    {
                        "name": r.reporter_name,
                        "email": r.reporter_email,
                        "phone": r.reporter_phone,
                        "country": r.reporter_country,
                    }
                    if see_reporters
                    else None
                ),
            }
            for r in reports
        ],
        "hosting": lookup,
        "captures": list(Capture.objects.filter(item_id=item_id).order_by("-fetched_at")[:10]),
        "observables": sorted(
            set(Observable.objects.filter(report__in=reports).values_list("type", "value"))
        ),
        "matches": list(BankMatch.objects.filter(item_id=item_id).select_related("entry__bank")),
        "links": [
            {
                "id": link.pk,
                "other": link.item_b_id if link.item_a_id == item_id else link.item_a_id,
                "kind": link.kind,
                "value": link.value,
                "state": link.state,
                "reason": link.reason,
                "evidence": link.evidence,
            }
            for link in links
        ],
        "network_id": Membership.objects.filter(item_id=item_id)
        .values_list("network_id", flat=True)
        .first(),
        "routing": orient.item_routing(item_id),
        "history": list(AuditRecord.objects.filter(target=f"item:{item_id}").order_by("-seq")[:50]),
        "notes": list(Note.objects.filter(item_id=item_id).select_related("user").order_by("-id")),
        "destinations": list(
            Destination.objects.filter(is_active=True)
            .exclude(kind="host")
            .order_by("kind", "code")
            .values_list("code", "name")
        ),
        "themes": [t.value for t in Theme],
        "classifications": [c.value for c in Classification if c != Classification.UNASSESSED],
    }


def preferences_of(user: Any) -> dict[str, Any]:
    """This person's console settings: language, and whether pictures are blurred and
    in grayscale (both on until they choose otherwise)."""
    row = Preference.objects.filter(user_id=user.pk).values("language", "blur", "grayscale").first()
    return dict(row) if row else {"language": "en", "blur": True, "grayscale": True}


def language_of(user: Any) -> str:
    """The language this person chose for the console (English until they choose)."""
    from_db = Preference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return from_db or "en"


def network_graph(summary: dict[str, Any]) -> dict[str, Any]:
    """A network as a graph: its items, the values that link them, and one edge per item
    and value (a link between two pictures or two texts joins the items directly)."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    for item in summary["items"]:
        nodes[f"item:{item['id']}"] = {
            "id": f"item:{item['id']}",
            "type": "item",
            "label": f"#{item['id']} {item['url'] or item['kind']}"[:80],
        }
    for link in summary["links"]:
        if link["state"] != "active":
            continue
        a, b = f"item:{link['item_a']}", f"item:{link['item_b']}"
        if link["kind"] in ("similar_image", "similar_text", "same_image"):
            edges.append({"source": a, "target": b, "kind": link["kind"]})
            continue
        value = f"{link['kind']}:{link['value']}"
        nodes.setdefault(value, {"id": value, "type": "value", "label": f"{link['value']}"[:60]})
        for end in (a, b):
            edge = {"source": end, "target": value, "kind": link["kind"]}
            if edge not in edges:
                edges.append(edge)
    return {"nodes": list(nodes.values()), "edges": [e for e in edges if e["source"] in nodes]}


def exposure_today(user: Any) -> dict[str, Any]:
    """Today's un-blurred viewing time against the cap: seconds, share, warn, capped."""
    seconds = (
        Exposure.objects.filter(user_id=user.pk, day=timezone.now().date())
        .values_list("seconds", flat=True)
        .first()
    ) or 0.0
    cap = settings.CONSOLE_EXPOSURE_CAP_S
    return {
        "seconds": seconds,
        "minutes": round(seconds / 60),
        "cap_minutes": round(cap / 60),
        "warn": seconds >= cap * settings.CONSOLE_EXPOSURE_WARN,
        "capped": seconds >= cap,
    }


def item_media(item: Item) -> list[dict[str, Any]]:
    """The pictures of an item (the item itself, or its reports' uploads), each with its
    blurred thumbnail and whether it is known content (never shown unless asked)."""
    shas = {item.sha256} if item.kind == "media" and item.sha256 else set()
    shas |= set(
        ReportMedia.objects.filter(report__report_items__item=item).values_list("sha256", flat=True)
    )
    known = ItemAnalysis.objects.filter(item=item, known_content=True).exists()
    files = MediaFile.objects.filter(sha256__in=shas).order_by("sha256")
    return [
        {"sha256": f.sha256, "thumbnail": bool(f.thumbnail_sha256), "known": known} for f in files
    ]
