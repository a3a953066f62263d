"""Orient's reads: the facts rules decide on, an item's routing with its dispatches and
takedown, the outbox's problems, and time to removal by host and country."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from tipline.analyze.models import Analysis, Capture, HostingLookup, ItemAnalysis, Observable
from tipline.common.evidence import default_store
from tipline.crossref.models import Membership
from tipline.crossref.selectors import network_current
from tipline.harmonize.models import Item, ReportItem
from tipline.intake.models import Report

from . import core, exports
from .models import Destination, DestinationKind, Dispatch, DispatchState, Routing, Takedown

PRIORITIES = ("P1", "P2", "P3", "P4")


def partner_countries() -> set[str]:
    return set(
        Destination.objects.filter(kind=DestinationKind.PARTNER, is_active=True)
        .exclude(country="")
        .values_list("country", flat=True)
    )


def hosting_class(country: str, partners: set[str]) -> str:
    """Where a country stands for routing: our own, a partner's, one without a hotline."""
    if not country:
        return "unknown"
    if country == settings.COUNTRY:
        return "home"
    return "partner" if country in partners else "none"


def hosting_for(hosts: Sequence[str]) -> dict[str, HostingLookup]:
    """The latest lookup of each host that found where it is served from."""
    found: dict[str, HostingLookup] = {}
    rows = (
        HostingLookup.objects.filter(host__in=set(hosts))
        .exclude(country="")
        .order_by("host", "looked_up_at", "id")
    )
    for row in rows:
        found[row.host] = row
    return found


def item_facts(item_ids: Sequence[int]) -> dict[int, core.ItemFacts]:
    """What the rules decide on, for each item: a few queries however many items."""
    items = list(
        Item.objects.filter(id__in=item_ids).values(
            "id",
            "kind",
            "theme",
            "classification",
            "assessed_at",
            "channels",
            "host",
            "duplicate_of_id",
            "needs_assessment",
        )
    )
    priority: dict[int, str] = {}
    risk: dict[int, int] = defaultdict(int)
    rows = Analysis.objects.filter(report__report_items__item_id__in=item_ids).values_list(
        "report__report_items__item_id", "priority", "risk"
    )
    for item_id, p, r in rows:
        if p in PRIORITIES and PRIORITIES.index(p) < PRIORITIES.index(priority.get(item_id, "P4")):
            priority[item_id] = p
        risk[item_id] = max(risk[item_id], r)
    known = set(
        ItemAnalysis.objects.filter(item_id__in=item_ids, known_content=True).values_list(
            "item_id", flat=True
        )
    )
    lookups = hosting_for([i["host"] for i in items if i["host"]])
    partners = partner_countries()
    facts = {}
    for i in items:
        lookup = lookups.get(i["host"])
        country = lookup.country if lookup else ""
        facts[i["id"]] = core.ItemFacts(
            item_id=i["id"],
            kind=i["kind"],
            theme=i["theme"],
            classification=i["classification"] or "unassessed",
            assessed=i["assessed_at"] is not None,
            priority=priority.get(i["id"], "P4"),
            risk=risk[i["id"]],
            channels=tuple(sorted(i["channels"] or ())),
            known_content=i["id"] in known,
            hosting=hosting_class(country, partners),
            hosting_country=country,
            host=i["host"],
            abuse_email=lookup.abuse_email if lookup else "",
            # A duplicate reopened by new evidence is routed on its own again.
            duplicate=i["duplicate_of_id"] is not None and not i["needs_assessment"],
        )
    return facts


def item_routing(item_id: int) -> dict[str, Any]:
    """An item's current routing, its dispatches and its takedown, for analysts."""
    routing = Routing.objects.filter(item_id=item_id, is_current=True).first()
    dispatches = (
        Dispatch.objects.filter(item_id=item_id)
        .select_related("destination")
        .order_by("created_at", "id")
    )
    takedown = Takedown.objects.filter(item_id=item_id).first()
    return {
        "item_id": item_id,
        "routing": None
        if routing is None
        else {
            "rules": routing.rules,
            "reason": routing.reason,
            "hold": routing.hold,
            "escalate": routing.escalate,
            "close_as": routing.close_as,
            "problems": routing.problems,
            "facts": routing.facts,
            "decided_at": routing.decided_at,
        },
        "dispatches": [dispatch_view(d) for d in dispatches],
        "takedown": None if takedown is None else takedown_view(takedown),
    }


# What "was dispatched": a proposal not yet confirmed, or a cancelled one, never left.
DISPATCHED = ("pending", "sent", "acknowledged", "failed", "undeliverable")


def dispatches_for_liaison(user: Any, *, limit: int = 200) -> list[dict[str, Any]]:
    """What was dispatched to the offices this person is the liaison officer of (hotline
    staff who read routing see every office's), newest first, with the item's address,
    theme and classification: a liaison officer reads nothing else of the hotline."""
    rows = Dispatch.objects.filter(destination__kind="office", state__in=DISPATCHED).select_related(
        "destination", "item"
    )
    if not user.has_perm("orient.view_routing"):
        rows = rows.filter(destination__liaisons=user)
    return [
        {
            **dispatch_view(d),
            "item_id": d.item_id,
            "destination_name": d.destination.name if d.destination else "",
            "item_url": d.item.url if d.item else "",
            "item_theme": d.item.theme if d.item else "",
            "item_classification": d.item.classification if d.item else "",
        }
        for d in rows.order_by("-created_at", "-id")[:limit]
    ]


def dispatch_view(d: Dispatch) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "state": d.state,
        "destination": d.destination.code if d.destination else "",
        "destination_kind": d.destination.kind if d.destination else "",
        "address": d.address,
        "waiting_for": d.waiting_for,
        "flag": d.flag,
        "envelope_id": str(d.envelope_id),
        "sequence": d.sequence,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "reference": d.reference,
        "updates": d.updates,
        "created_at": d.created_at,
        "sent_at": d.sent_at,
        "acknowledged_at": d.acknowledged_at,
    }


def takedown_view(t: Takedown) -> dict[str, Any]:
    return {
        "state": t.state,
        "host": t.host,
        "country": t.country,
        "notices": t.notices,
        "escalated_at": t.escalated_at,
        "first_notice_at": t.first_notice_at,
        "last_check_at": t.last_check_at,
        "last_check": t.last_check,
        "next_check_at": t.next_check_at,
        "removed_at": t.removed_at,
        "removed_how": t.removed_how,
        "time_to_removal_s": t.time_to_removal_s,
    }


def outbox_problems() -> list[Dispatch]:
    """What the console alerts on: messages refused or given up, newest first."""
    return list(
        Dispatch.objects.filter(state__in=[DispatchState.FAILED, DispatchState.UNDELIVERABLE])
        .select_related("destination")
        .order_by("-closed_at", "-id")
    )


def removal_times(*, by: str) -> list[dict[str, Any]]:
    """Time from first notice to removal, per host or per hosting country: count removed,
    still online, median and slowest (seconds)."""
    if by not in ("host", "country"):
        raise ValueError("by must be 'host' or 'country'")
    groups: dict[str, list[float]] = defaultdict(list)
    online: dict[str, int] = defaultdict(int)
    for t in Takedown.objects.all().only(
        "host", "country", "state", "removed_at", "first_notice_at", "opened_at"
    ):
        key = getattr(t, by) or "unknown"
        seconds = t.time_to_removal_s
        if seconds is None:
            online[key] += 1
        else:
            groups[key].append(seconds)
    keys = sorted(set(groups) | set(online))
    return [
        {
            by: key,
            "removed": len(groups[key]),
            "online": online[key],
            "median_s": statistics.median(groups[key]) if groups[key] else None,
            "max_s": max(groups[key]) if groups[key] else None,
        }
        for key in keys
    ]


def items_of_reports(report_ids: Sequence[int]) -> list[int]:
    return sorted(
        set(ReportItem.objects.filter(report_id__in=report_ids).values_list("item_id", flat=True))
    )


def report_routing_facts(report_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What a provider reads of its reports' routing: per item, held / routed / closed,
    and where notices and partner dispatches stand. Referrals to police are not shown
    to reporters (they could warn a suspect)."""
    links = list(
        ReportItem.objects.filter(report_id__in=report_ids).values_list("report_id", "item_id")
    )
    item_ids = {i for _, i in links}
    routings = {r.item_id: r for r in Routing.objects.filter(item_id__in=item_ids, is_current=True)}
    dispatches: dict[int, list[dict[str, str]]] = defaultdict(list)
    for d in (
        Dispatch.objects.filter(item_id__in=item_ids, kind__in=["dispatch", "notice"])
        .exclude(destination__kind=DestinationKind.OFFICE)
        .exclude(state="cancelled")
        .select_related("destination")
        .order_by("id")
    ):
        assert d.destination is not None
        dispatches[d.item_id or 0].append({"to": d.destination.kind, "state": d.state})
    facts: dict[int, dict[str, Any]] = {rid: {"routing": []} for rid in report_ids}
    for report_id, item_id in sorted(links):
        routing = routings.get(item_id)
        if routing is None:
            decision = "pending"
        elif routing.close_as:
            decision = "closed"
        elif routing.hold:
            decision = "held"
        else:
            decision = "routed"
        facts[report_id]["routing"].append(
            {"item_id": item_id, "decision": decision, "dispatches": dispatches[item_id]}
        )
    return facts


def export_items(item_ids: Sequence[int]) -> list[exports.ExportItem]:
    """Items as the exports (STIX, CSV, referral) describe them."""
    items = list(Item.objects.filter(id__in=item_ids).order_by("id"))
    facts = item_facts([i.id for i in items])
    lookups = hosting_for([i.host for i in items if i.host])
    observed: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for item_id, kind, value in Observable.objects.filter(
        report__report_items__item_id__in=item_ids
    ).values_list("report__report_items__item_id", "type", "value"):
        observed[item_id].add((kind, value))
    networks = dict(
        Membership.objects.filter(item_id__in=item_ids).values_list("item_id", "network_id")
    )
    out = []
    for i in items:
        lookup = lookups.get(i.host)
        out.append(
            exports.ExportItem(
                id=i.id,
                kind=i.kind,
                url=i.url,
                domain=i.domain,
                host=i.host,
                addresses=tuple(lookup.addresses) if lookup else (),
                hosting_country=lookup.country if lookup else "",
                theme=i.theme,
                classification=i.classification or "unassessed",
                priority=facts[i.id].priority,
                first_seen=i.first_reported_at,
                last_seen=i.last_reported_at,
                report_count=i.report_count,
                observables=tuple(sorted(observed[i.id])),
                sha256=i.sha256 if i.kind == "media" else "",
                network_id=networks.get(i.id),
            )
        )
    return out


def network_item_ids(network_id: int) -> list[int]:
    network = network_current(network_id)
    if network is None:
        return []
    return sorted(Membership.objects.filter(network=network).values_list("item_id", flat=True))


@dataclass(frozen=True)
class ReferralPackage:
    referral: dict[str, Any]
    evidence: dict[str, bytes]


def referral_package(item_ids: Sequence[int], *, title: str) -> ReferralPackage:
    """What a law-enforcement referral holds: the items, their reports (with reporters'
    details: the police may need to hear them), routing and dispatches, and every evidence
    file (captures, uploaded media) by SHA-256. A missing file is listed, not hidden."""
    store = default_store()
    items = export_items(item_ids)
    evidence: dict[str, bytes] = {}
    missing: list[str] = []

    def keep(sha256: str, name: str) -> str:
        path = f"{sha256[:12]}-{name}"
        try:
            evidence[path] = store.get(sha256)
        except Exception:  # the store lost it: say so in the package
            missing.append(sha256)
        return path

    entries = []
    for item in items:
        reports = Report.objects.filter(report_items__item_id=item.id).order_by("id")
        captures = Capture.objects.filter(item_id=item.id).exclude(body_sha256="")
        entries.append(
            {
                "item": {
                    "id": item.id,
                    "kind": item.kind,
                    "url": item.url,
                    "host": item.host,
                    "hosting_country": item.hosting_country,
                    "theme": item.theme,
                    "classification": item.classification,
                    "priority": item.priority,
                    "first_seen": item.first_seen.isoformat(),
                    "last_seen": item.last_seen.isoformat(),
                    "network_id": item.network_id,
                    "observables": [{"type": t, "value": v} for t, v in item.observables],
                },
                "reports": [
                    {
                        "receipt": r.receipt,
                        "channel": r.channel,
                        "received_at": r.received_at.isoformat(),
                        "urls": r.urls,
                        "excerpt": r.excerpt,
                        "description": r.description,
                        "reporter": {
                            "name": r.reporter_name,
                            "email": r.reporter_email,
                            "phone": r.reporter_phone,
                            "country": r.reporter_country,
                        },
                        "media": [
                            {
                                "filename": m.filename,
                                "sha256": m.sha256,
                                "file": keep(m.sha256, "media"),
                            }
                            for m in r.media.all()
                        ],
                    }
                    for r in reports
                ],
                "captures": [
                    {
                        "url": c.requested_url,
                        "final_url": c.final_url,
                        "status": c.status,
                        "fetched_at": c.fetched_at.isoformat(),
                        "addresses": c.addresses,
                        "sha256": c.body_sha256,
                        "file": keep(c.body_sha256, "capture"),
                    }
                    for c in captures
                ],
                **item_routing(item.id),
            }
        )
    referral = {
        "title": title,
        "hotline": settings.HOTLINE_NAME,
        "instance_id": settings.INSTANCE_ID,
        "items": entries,
        "missing_evidence": missing,
    }
    return ReferralPackage(
        referral=json.loads(json.dumps(referral, default=str)), evidence=evidence
    )
