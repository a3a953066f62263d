"""Statistics' background entry points: the periodic refresh of the daily summaries."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from . import services
from .models import Refresh

# How stale the dashboard's figures may get before a worker brings them up to date.
REFRESH_EVERY_S = 600


# Its own queue: a first full build takes minutes at a million items, and must not hold
# up the pipeline's queue (a worker with no queue named takes every queue).
@task(queue_name="statistics")
def summaries_refresh() -> None:
    services.summaries_refresh()


def housekeeping() -> bool:
    """Run by workers each minute: queue a refresh when the figures are older than
    REFRESH_EVERY_S and none is queued yet. Returns whether one was queued."""
    now = timezone.now()
    every = timedelta(seconds=REFRESH_EVERY_S)
    with transaction.atomic():
        state, _ = Refresh.objects.select_for_update().get_or_create(pk=1)
        if state.as_of is not None and now - state.as_of < every:
            return False
        if state.queued_at is not None and now - state.queued_at < every:
            return False
        Refresh.objects.filter(pk=1).update(queued_at=now)
        # The queue is a table of the same database: queued in this transaction.
        summaries_refresh.enqueue()
    return True


def refresh_soon() -> None:
    """Queue a refresh now (a supervisor asked for it)."""
    with transaction.atomic():
        Refresh.objects.get_or_create(pk=1)
        Refresh.objects.filter(pk=1).update(queued_at=timezone.now())
        summaries_refresh.enqueue()
