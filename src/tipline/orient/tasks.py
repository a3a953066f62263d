"""Orient's background entry points: route a host's items again when its lookup lands,
re-check noticed pages, and the periodic housekeeping of the outbox."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.tasks import task
from django.utils import timezone

from tipline.analyze.models import HostingLookup

from . import exchange, outbox, services, takedown
from .models import SeenTransmission

log = logging.getLogger(__name__)


@task()
def route_host_items(host: str) -> None:
    services.hosting_changed(host=host)


@task(queue_name="outside")
def takedowns_check() -> None:
    for takedown_id in takedown.takedowns_due():
        try:
            takedown.takedown_check(takedown_id=takedown_id)
        except Exception:  # e.g. the evidence store is full: checked again next round
            log.exception("re-check of takedown %s failed", takedown_id)


def on_hosting_lookup(sender: Any, instance: HostingLookup, created: bool, **kwargs: Any) -> None:
    """A lookup that found the country may change where the host's items go."""
    if created and instance.country:
        # Queued in the lookup's transaction: the queue is a table of the same database.
        route_host_items.enqueue(host=instance.host)


def housekeeping() -> dict[str, int]:
    """Run by every worker each minute: stalled outbox rows queued again, due re-checks
    started, old transmission ids forgotten (they expire anyway)."""
    now = timezone.now()
    requeued = outbox.outbox_requeue_stalled(now=now)
    due = len(takedown.takedowns_due(now=now, limit=1))
    if due:
        takedowns_check.enqueue()
    forget = now - timedelta(seconds=4 * (exchange.MAX_AGE_S + exchange.CLOCK_SKEW_S))
    pruned, _ = SeenTransmission.objects.filter(received_at__lt=forget).delete()
    return {"requeued": requeued, "checks_started": due, "transmissions_forgotten": pruned}
