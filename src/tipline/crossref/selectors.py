"""Cross-reference's reads: a report's networks, a network's summary, the items carrying a
value ("search by phone"), and the path of links between two items with their reasons."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Max, Q

from tipline.analyze.models import Analysis, HostingLookup, IndicatorHit
from tipline.analyze.observables import extract
from tipline.common.bulk import chunked, select_in
from tipline.harmonize.models import Item, ReportItem
from tipline.intake.models import Report

from . import core
from .models import AllowedValue, CommonValue, Link, Membership, Network, NetworkEvent, Trace

MAX_ITEMS_SHOWN = 200
MAX_LINKS_SHOWN = 500


def report_facts(report_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The networks of each report's items, for the report's API view."""
    facts: dict[int, dict[str, Any]] = {rid: {"network_ids": []} for rid in report_ids}
    rows = (
        ReportItem.objects.filter(report_id__in=report_ids, item__membership__isnull=False)
        .values_list("report_id", "item__membership__network_id")
        .distinct()
    )
    for rid, network_id in rows:
        facts[rid]["network_ids"].append(network_id)
    for f in facts.values():
        f["network_ids"].sort()
    return facts


def network_current(network_id: int) -> Network | None:
    """The network as it is now: a network merged into another leads to the one that
    absorbed it."""
    network = Network.objects.filter(id=network_id).first()
    hops = 0
    while network is not None and network.merged_into_id is not None and hops < 100:
        network = Network.objects.filter(id=network.merged_into_id).first()
        hops += 1
    return network


def item_network(item_id: int) -> int | None:
    return Membership.objects.filter(item_id=item_id).values_list("network_id", flat=True).first()


def _members(network_id: int) -> list[int]:
    return list(
        Membership.objects.filter(network_id=network_id)
        .order_by("item_id")
        .values_list("item_id", flat=True)
    )


def link_out(link: Link) -> dict[str, Any]:
    return {
        "id": link.pk,
        "item_a": link.item_a_id,
        "item_b": link.item_b_id,
        "kind": link.kind,
        "value": link.value,
        "evidence": link.evidence,
        "state": link.state,
        "reason": link.reason,
        "created_at": link.created_at,
    }


def network_summary(network_id: int) -> dict[str, Any] | None:
    """Everything an analyst needs to judge a network, in a fixed number of queries per 500
    items: its items, reports, values with counts, dates, channels, hosting countries,
    highest priority, top indicators, the links with their reasons and its history."""
    network = network_current(network_id)
    if network is None:
        return None
    members = _members(network.pk)
    items: list[dict[str, Any]] = []
    first_seen = last_seen = None
    channels: Counter[str] = Counter()
    hosts: set[str] = set()
    report_ids: set[int] = set()
    values: Counter[tuple[str, str]] = Counter()
    links: list[Link] = []
    for chunk in chunked(members):
        for item in Item.objects.filter(id__in=chunk).only(
            "id",
            "kind",
            "url",
            "host",
            "sha256",
            "text",
            "first_reported_at",
            "last_reported_at",
            "channels",
            "report_count",
            "classification",
        ):
            if len(items) < MAX_ITEMS_SHOWN:
                items.append(
                    {
                        "id": item.pk,
                        "kind": item.kind,
                        "url": item.url,
                        "sha256": item.sha256,
                        "text": item.text[:200],
                        "report_count": item.report_count,
                        "classification": item.classification,
                        "first_reported_at": item.first_reported_at,
                        "last_reported_at": item.last_reported_at,
                    }
                )
            first_seen = min(filter(None, (first_seen, item.first_reported_at)))
            last_seen = max(filter(None, (last_seen, item.last_reported_at)))
            channels.update(item.channels)
            if item.host:
                hosts.add(item.host)
        report_ids.update(
            ReportItem.objects.filter(item_id__in=chunk).values_list("report_id", flat=True)
        )
        for kind, value, n in (
            Trace.objects.filter(item_id__in=chunk)
            .values_list("kind", "value")
            .annotate(n=Count("id"))
        ):
            values[(kind, value)] += n
        if len(links) < MAX_LINKS_SHOWN:
            links.extend(
                Link.objects.filter(item_a_id__in=chunk, state=Link.State.ACTIVE).order_by("id")[
                    : MAX_LINKS_SHOWN - len(links)
                ]
            )
    reports = sorted(report_ids)
    priorities: list[str] = []
    indicators: Counter[str] = Counter()
    report_channels: Counter[str] = Counter()
    for chunk in chunked(reports):
        priorities.extend(
            Analysis.objects.filter(report_id__in=chunk).values_list("priority", flat=True)
        )
        for code, n in (
            IndicatorHit.objects.filter(report_id__in=chunk)
            .values_list("code")
            .annotate(n=Count("id"))
        ):
            indicators[code] += n
        for channel, n in (
            Report.objects.filter(id__in=chunk).values_list("channel").annotate(n=Count("id"))
        ):
            report_channels[channel] += n
    countries = _hosting_countries(sorted(hosts))
    common = _common_among(values)
    return {
        "id": network.pk,
        "requested_id": network_id,
        "item_count": len(members),
        "report_count": len(reports),
        "items": items,
        "items_shown": len(items),
        "report_ids": reports[:MAX_ITEMS_SHOWN],
        "first_seen": first_seen,
        "last_seen": last_seen,
        "channels": dict(report_channels or channels),
        "hosting_countries": countries,
        "highest_priority": min(priorities) if priorities else None,
        "top_indicators": [{"code": c, "count": n} for c, n in indicators.most_common(10)],
        "values": [
            {"kind": k, "value": v, "items": n, "common": (k, v) in common}
            for (k, v), n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:100]
        ],
        "links": [link_out(link) for link in links],
        "events": [
            {
                "kind": e.kind,
                "other_network": e.other_id,
                "link": e.link_id,
                "detail": e.detail,
                "at": e.at,
            }
            for e in NetworkEvent.objects.filter(network_id=network.pk).order_by("id")[:100]
        ],
        "absorbed": sorted(
            Network.objects.filter(merged_into_id=network.pk).values_list("id", flat=True)
        ),
    }


def _hosting_countries(hosts: Sequence[str]) -> dict[str, int]:
    """The latest known country of each host, counted."""
    latest: dict[str, str] = {}
    for chunk in chunked(hosts):
        newest = (
            HostingLookup.objects.filter(host__in=chunk)
            .values("host")
            .annotate(at=Max("looked_up_at"))
        )
        wanted = Q()
        for row in newest:
            wanted |= Q(host=row["host"], looked_up_at=row["at"])
        if newest:
            for host, country in HostingLookup.objects.filter(wanted).values_list(
                "host", "country"
            ):
                latest[host] = country
    return dict(Counter(c for c in latest.values() if c).most_common())


def _common_among(values: Counter[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for kind, vs in core.values_by_kind(values).items():
        found.update(
            (kind, v) for (v,) in select_in(CommonValue, ["value"], "value", vs, kind=kind)
        )
    return found


class UnknownType(ValueError):
    pass


def searched_value(type_: str, value: str) -> tuple[str, str]:
    """The kind and normalized value searched for: "01 99 00 12 34" finds +33199001234."""
    kind = core.SEARCH_TYPES.get(type_.strip().lower())
    if kind is None:
        raise UnknownType(
            f"type must be one of {', '.join(sorted(core.SEARCH_TYPES))}, not {type_!r}"
        )
    value = value.strip()
    if kind in (
        core.LinkKind.SHARED_PHONE,
        core.LinkKind.SHARED_WALLET,
        core.LinkKind.SHARED_HANDLE,
    ):
        wanted = {
            core.LinkKind.SHARED_PHONE: "phone",
            core.LinkKind.SHARED_WALLET: "crypto",
            core.LinkKind.SHARED_HANDLE: "handle",
        }[kind]
        for found in extract(value):
            if found.type == wanted:
                value = found.value
                break
    elif kind == core.LinkKind.SAME_IMAGE:
        value = value.lower()
    return kind, core.normalized_value(kind, value)


def items_for_value(*, type_: str, value: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Every item carrying a value, newest first, with its network."""
    kind, normalized = searched_value(type_, value)
    kinds = [kind, core.HOSTED_ON] if kind == core.LinkKind.SHARED_DOMAIN else [kind]
    carriers = Trace.objects.filter(kind__in=kinds, value=normalized).values("item_id").distinct()
    total = carriers.count()
    ids = list(
        carriers.order_by("-item_id").values_list("item_id", flat=True)[offset : offset + limit]
    )
    items = {i.pk: i for i in Item.objects.filter(id__in=ids)}
    networks = dict(Membership.objects.filter(item_id__in=ids).values_list("item_id", "network_id"))
    reports: dict[int, list[int]] = defaultdict(list)
    for item_id, report_id in ReportItem.objects.filter(item_id__in=ids).values_list(
        "item_id", "report_id"
    ):
        reports[item_id].append(report_id)
    common = CommonValue.objects.filter(kind=kind, value=normalized).first()
    return {
        "type": type_,
        "kind": kind,
        "value": normalized,
        "total": total,
        "offset": offset,
        "common": (
            {"item_count": common.item_count, "decision": common.decision or "pending"}
            if common
            else None
        ),
        "allowed": AllowedValue.objects.filter(kind=kind, value=normalized).exists(),
        "items": [
            {
                "id": i,
                "kind": items[i].kind,
                "url": items[i].url,
                "sha256": items[i].sha256,
                "network_id": networks.get(i),
                "report_ids": sorted(reports.get(i, [])),
                "last_reported_at": items[i].last_reported_at,
            }
            for i in ids
            if i in items
        ],
    }


def link_path(item_a: int, item_b: int) -> list[dict[str, Any]] | None:
    """The fewest active links from one item to another, each with its reason; None when
    they are not in the same network."""
    network = item_network(item_a)
    if network is None or network != item_network(item_b):
        return None if item_a != item_b else []
    members = _members(network)
    inside = set(members)
    edges: list[tuple[int, int, int]] = []
    for chunk in chunked(members):
        edges.extend(
            (a, b, link_id)
            for link_id, a, b in Link.objects.filter(
                item_a_id__in=chunk, state=Link.State.ACTIVE
            ).values_list("id", "item_a_id", "item_b_id")
            if b in inside
        )
    steps = core.shortest_path(item_a, item_b, edges)
    if steps is None:
        return None
    by_id = {link.pk: link for link in Link.objects.filter(id__in=[s[2] for s in steps])}
    return [{"from": a, "to": b, "link": link_out(by_id[link_id])} for a, b, link_id in steps]
