"""Console reads: the analysts' queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from tipline.crossref.models import Membership
from tipline.harmonize.models import Item
from tipline.orient.models import Routing

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
    routings = (
        Routing.objects.filter(is_current=True, item__needs_assessment=True)
        .exclude(close_as__in=["known", "not_illegal"])
        .annotate(rank=PRIORITY_RANK)
        .select_related("item", "item__claim__user")
    )
    f = filters
    if f.theme:
        routings = routings.filter(item__theme=f.theme)
    if f.priority:
        routings = routings.filter(priority=f.priority)
    if f.country:
        routings = routings.filter(hosting_country=f.country.upper())
    if f.channel:
        routings = routings.filter(item__report_links__report__channel=f.channel).distinct()
    if f.network is not None:
        members = Membership.objects.filter(network_id=f.network).values("item_id")
        routings = routings.filter(item_id__in=members)
    if f.mine:
        routings = routings.filter(item__claim__user=user, item__claim__expires_at__gt=now)
    total = routings.count()
    ordered = routings.order_by("rank", "item__first_reported_at", "item_id")
    page = list(ordered[offset : offset + limit])
    return {
        "total": total,
        "items": [_entry(r, now, user) for r in page],
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
