"""Following a takedown: re-fetch each noticed page on a schedule (Analyze's capture, so
every check is kept as evidence), record removal with its time, re-notice the host when
the page is still there a day later, escalate after several notices."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tipline.analyze.jobs import capture_item_run

from . import outbox
from .models import Dispatch, DispatchKind, DispatchState, Takedown, TakedownState
from .services import item_removed

# What a server answers when the content is gone (removed, or blocked for legal reasons).
GONE = (404, 410, 451)


def takedowns_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Takedown.objects.filter(state=TakedownState.OPEN, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("id", flat=True)[:limit]
    )


def takedown_check(*, takedown_id: int, now: datetime | None = None) -> str:
    """Check one page once; return what was seen, in words."""
    now = now or timezone.now()
    takedown = Takedown.objects.select_related("item").get(id=takedown_id)
    if takedown.state != TakedownState.OPEN:
        return f"already {takedown.state}"
    capture = capture_item_run(item_id=takedown.item_id, attempt=takedown.checks + 1)
    if capture.status in GONE:
        seen = f"HTTP {capture.status}: gone"
        Takedown.objects.filter(id=takedown.id).update(
            checks=takedown.checks + 1, last_check_at=now, last_check=seen
        )
        item_removed(item_id=takedown.item_id, how=f"re-check saw {seen}", when=now)
        return seen
    if capture.error:
        # A site that does not answer may be down for an hour: only an answer that the
        # content is gone closes a takedown.
        seen = f"not reachable: {capture.error}"[:300]
    else:
        seen = f"HTTP {capture.status}: still online"
    with transaction.atomic():
        Takedown.objects.filter(id=takedown.id).update(
            checks=takedown.checks + 1,
            last_check_at=now,
            last_check=seen,
            next_check_at=now + timedelta(seconds=settings.TAKEDOWN_CHECK_S),
        )
        if not capture.error:
            _follow_up(takedown, now)
    return seen


def _follow_up(takedown: Takedown, now: datetime) -> None:
    """Still online a day after the last notice: notice again, or escalate once enough
    notices went unanswered."""
    last = takedown.last_notice_at
    if last is None or (now - last).total_seconds() < settings.TAKEDOWN_RENOTICE_S:
        return
    if takedown.notices >= settings.TAKEDOWN_ESCALATE_AFTER:
        if takedown.escalated_at is None:
            Takedown.objects.filter(id=takedown.id).update(escalated_at=now)
            outbox.alert_queue(
                item_id=takedown.item_id,
                subject=f"Takedown escalation: item {takedown.item_id} still online",
                text=(
                    f"{takedown.item.url} is still online after {takedown.notices} notices "
                    f"to its host ({takedown.host}, {takedown.country or 'country unknown'}); "
                    f"first notice {takedown.first_notice_at:%Y-%m-%d %H:%M} UTC. "
                    "Escalate to the competent office or the host's upstream provider."
                ),
                now=now,
            )
        return
    previous = (
        Dispatch.objects.filter(item_id=takedown.item_id, kind=DispatchKind.NOTICE)
        .exclude(state=DispatchState.CANCELLED)
        .order_by("-sequence", "-id")
        .first()
    )
    if previous is None or previous.state in (DispatchState.PROPOSED, DispatchState.PENDING):
        return  # the previous notice has not gone yet
    renotice = Dispatch.objects.create(
        item_id=takedown.item_id,
        routing_id=previous.routing_id,
        destination_id=previous.destination_id,
        kind=DispatchKind.NOTICE,
        state=DispatchState.PENDING,
        sequence=takedown.notices + 1,
        flag=previous.flag,
        body={"renotice_of": previous.id},
        created_at=now,
        queued_at=now,
        next_attempt_at=now,
    )
    # Counted when sent; until then, no second re-notice is queued.
    Takedown.objects.filter(id=takedown.id).update(last_notice_at=now)
    outbox.deliver_soon([renotice.id])
