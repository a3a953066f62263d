"""Following a takedown: re-fetch each noticed page on a schedule (Analyze's capture, so
every check is kept as evidence), record removal with its time, re-notice the host when
the page is still there a day later, escalate after several notices."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
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


# How long a check holds its takedown: no other check of it starts meanwhile.
CHECK_LEASE = timedelta(minutes=10)


def takedown_check(*, takedown_id: int, now: datetime | None = None) -> str:
    """Check one page once; return what was seen, in words. The takedown is claimed first
    (two workers never check it at once), and what the check saw is recorded on the row
    as it is after the fetch (an analyst may have closed it meanwhile)."""
    now = now or timezone.now()
    claimed = Takedown.objects.filter(
        id=takedown_id, state=TakedownState.OPEN, next_check_at__lte=now
    ).update(next_check_at=now + CHECK_LEASE)
    if not claimed:
        state = Takedown.objects.filter(id=takedown_id).values_list("state", flat=True).first()
        return (
            "not due: another check holds it"
            if state == TakedownState.OPEN
            else (f"already {state}")
        )
    item_id = Takedown.objects.values_list("item_id", flat=True).get(id=takedown_id)
    capture = capture_item_run(item_id=item_id, attempt=1)
    if capture.status in GONE:
        seen = f"HTTP {capture.status}: gone"
        Takedown.objects.filter(id=takedown_id).update(last_check_at=now, last_check=seen)
        Takedown.objects.filter(id=takedown_id).update(checks=F("checks") + 1)
        item_removed(item_id=item_id, how=f"re-check saw {seen}", when=now)
        return seen
    if capture.error:
        # A site that does not answer may be down for an hour: only an answer that the
        # content is gone closes a takedown.
        seen = f"not reachable: {capture.error}"[:300]
    else:
        seen = f"HTTP {capture.status}: still online"
    with transaction.atomic():
        takedown = Takedown.objects.select_for_update().select_related("item").get(id=takedown_id)
        if takedown.state != TakedownState.OPEN:
            return f"{seen}, but it was closed meanwhile ({takedown.removed_how})"
        takedown.checks += 1
        takedown.last_check_at = now
        takedown.last_check = seen
        takedown.next_check_at = now + timedelta(seconds=settings.TAKEDOWN_CHECK_S)
        takedown.save(update_fields=["checks", "last_check_at", "last_check", "next_check_at"])
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
                    f"{outbox.reported_url(takedown.item)} is still online after "
                    f"{takedown.notices} notices to its host ({takedown.host}, "
                    f"{takedown.country or 'country unknown'}); "
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
