"""The outbox: delivering dispatches, notices, status updates and alerts, at least once.

A row is claimed before it is sent (a lease, so two workers never send it at once and a
worker killed mid-send leaves it to be sent again), sent through an edge, and recorded.
Receivers de-duplicate on the row's `envelope_id` (partners) or reference (e-mail), so
the effect is exactly once. Failures back off exponentially up to OUTBOX_MAX_AGE_S, then
the row is `undeliverable` and the supervisor on duty is alerted; a receiver that refuses
the message itself makes it `failed` at once (trying again would not help)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tipline.common.pipeline import retry_delay
from tipline.harmonize.models import Item, ReportItem
from tipline.intake.core import MAX_EXCERPT_CHARS
from tipline.intake.models import Report

from . import edges, exchange, keys
from .models import (
    Destination,
    DestinationKind,
    Dispatch,
    DispatchKind,
    DispatchState,
    InboundEnvelope,
    Takedown,
    TakedownState,
)

log = logging.getLogger(__name__)

LANGUAGES = ("en", "fr")


# --- Queueing -------------------------------------------------------------------------------


def deliver_soon(dispatch_ids: Sequence[int]) -> None:
    """Queue the delivery of these rows. The task queue is a table of the same database,
    so the task commits (or rolls back) with the rows: no row without its task."""
    ids = sorted(set(dispatch_ids))
    if ids:
        deliver_dispatches.enqueue(dispatch_ids=ids)


def alert_queue(*, item_id: int | None, subject: str, text: str, now: datetime) -> Dispatch:
    """An alert e-mail to the supervisor on duty, in the outbox like everything else."""
    alert = Dispatch.objects.create(
        item_id=item_id,
        address=settings.ESCALATION_EMAIL,
        kind=DispatchKind.ALERT,
        state=DispatchState.PENDING,
        body={"subject": subject, "text": text},
        created_at=now,
        queued_at=now,
        next_attempt_at=now,
    )
    deliver_soon([alert.id])
    return alert


def partner_statuses_queue(*, item_id: int, status: str, now: datetime, **details: Any) -> int:
    """Tell each partner that sent us a report of this item what became of it (assessed,
    forwarded to police, content removed), once per status and envelope."""
    envelopes = InboundEnvelope.objects.filter(
        type="report", report__report_items__item_id=item_id
    ).select_related("sender")
    created = []
    for env in envelopes.distinct():
        already = Dispatch.objects.filter(
            kind=DispatchKind.STATUS,
            destination=env.sender,
            in_reply_to=env.envelope_id,
            body__status=status,
        ).exists()
        if already:
            continue
        created.append(
            Dispatch.objects.create(
                item_id=item_id,
                destination=env.sender,
                kind=DispatchKind.STATUS,
                state=DispatchState.PENDING,
                in_reply_to=env.envelope_id,
                body={"status": status, **details},
                created_at=now,
                queued_at=now,
                next_attempt_at=now,
            ).id
        )
    deliver_soon(created)
    return len(created)


@task(queue_name="outside")
def deliver_dispatches(dispatch_ids: list[int]) -> None:
    """Deliver what is due; what must wait is scheduled again for when it is due."""
    later: list[tuple[datetime, int]] = []
    for dispatch_id in dispatch_ids:
        try:
            dispatch_deliver(dispatch_id=dispatch_id)
        except Exception:  # the lease expires and the row is picked up again
            log.exception("delivering dispatch %s failed unexpectedly", dispatch_id)
        row = (
            Dispatch.objects.filter(id=dispatch_id, state=DispatchState.PENDING)
            .values_list("next_attempt_at", "claimed_until")
            .first()
        )
        if row is not None:
            # A row still leased (its sender died mid-send) is tried when the lease ends:
            # queued for its due time, the task would run again at once until then.
            due = [w for w in row if w is not None]
            later.append((max(due) if due else timezone.now(), dispatch_id))
    if later:
        when = min(w for w, _ in later)
        deliver_dispatches.using(run_after=when).enqueue(dispatch_ids=[i for _, i in later])


def outbox_requeue_stalled(*, now: datetime | None = None, late_s: float = 120.0) -> int:
    """Queue again the rows due for a while that no task is delivering (a worker died, a
    task was lost). Delivery is claimed per row, so an extra task costs one query."""
    now = now or timezone.now()
    ids = list(
        Dispatch.objects.filter(
            state=DispatchState.PENDING, next_attempt_at__lte=now - timedelta(seconds=late_s)
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("id", flat=True)[:1000]
    )
    if ids:
        deliver_dispatches.enqueue(dispatch_ids=ids)
    return len(ids)


# --- Delivering -----------------------------------------------------------------------------


def dispatch_deliver(
    *,
    dispatch_id: int,
    now: datetime | None = None,
    transport: edges.PartnerTransport | None = None,
    mailer: edges.Mailer | None = None,
) -> str:
    """Send one outbox row if it is due and nobody else is sending it; return its state."""
    now = now or timezone.now()
    claimed = (
        Dispatch.objects.filter(id=dispatch_id, state=DispatchState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=settings.OUTBOX_LEASE_S))
    )
    dispatch = Dispatch.objects.select_related("destination", "item").get(id=dispatch_id)
    if not claimed:
        return dispatch.state
    try:
        fields = _send(dispatch, now, transport or edges.transport(), mailer or edges.mailer())
    except edges.DeliveryError as exc:
        return _record_failure(dispatch, exc, now)
    with transaction.atomic():
        Dispatch.objects.filter(id=dispatch.id).update(
            attempts=dispatch.attempts + 1, claimed_until=None, last_error="", **fields
        )
        dispatch.refresh_from_db()
        _after_sent(dispatch, now)
    return dispatch.state


def _record_failure(dispatch: Dispatch, exc: edges.DeliveryError, now: datetime) -> str:
    attempts = dispatch.attempts + 1
    started = dispatch.queued_at or dispatch.created_at
    error = str(exc)[:2000]
    with transaction.atomic():
        if exc.permanent or (now - started).total_seconds() > settings.OUTBOX_MAX_AGE_S:
            state = DispatchState.FAILED if exc.permanent else DispatchState.UNDELIVERABLE
            Dispatch.objects.filter(id=dispatch.id).update(
                state=state, attempts=attempts, last_error=error, claimed_until=None, closed_at=now
            )
            log.warning("dispatch %s %s: %s", dispatch.id, state, error)
            if dispatch.kind != DispatchKind.ALERT:
                alert_queue(
                    item_id=dispatch.item_id,
                    subject=f"Outbox: {dispatch.kind} #{dispatch.id} {state}",
                    text=(
                        f"The {dispatch.get_kind_display()} #{dispatch.id} to "
                        f"{_recipient(dispatch)} is {state} after {attempts} attempt(s).\n"
                        f"Last error: {error}\n"
                        "Check the destination, then retry it from the admin "
                        "(Dispatches → retry)."
                    ),
                    now=now,
                )
            return state
        delay = retry_delay(
            attempts, base_s=settings.OUTBOX_RETRY_BASE_S, max_s=settings.OUTBOX_RETRY_MAX_S
        )
        Dispatch.objects.filter(id=dispatch.id).update(
            attempts=attempts,
            last_error=error,
            claimed_until=None,
            next_attempt_at=now + timedelta(seconds=delay),
        )
    log.info(
        "dispatch %s not delivered (attempt %s), again in %ss: %s",
        dispatch.id,
        attempts,
        delay,
        error,
    )
    return DispatchState.PENDING


def _recipient(d: Dispatch) -> str:
    return f"{d.destination.name} ({d.destination.code})" if d.destination else d.address


def _send(
    d: Dispatch, now: datetime, transport: edges.PartnerTransport, mailer: edges.Mailer
) -> dict[str, Any]:
    """Send and say what to record: sent (mail handed over) or acknowledged (a partner's
    signed receipt checked)."""
    dest = d.destination
    if dest is not None and dest.kind == DestinationKind.PARTNER:
        return _send_to_partner(d, dest, now, transport)
    mailer.send(_email(d))
    return {"state": DispatchState.SENT, "sent_at": now, "reference": _reference(d)}


def _reference(d: Dispatch) -> str:
    return f"TIP-{str(d.envelope_id)[:8].upper()}"


# --- Partners -------------------------------------------------------------------------------


def _send_to_partner(
    d: Dispatch, dest: Destination, now: datetime, transport: edges.PartnerTransport
) -> dict[str, Any]:
    if not dest.endpoint_url or not dest.instance_id or not dest.public_jwks:
        raise edges.DeliveryError(
            f"partner {dest.code} has no endpoint URL, instance id or public keys", permanent=True
        )
    jti = uuid.uuid4().hex
    message_type = "report" if d.kind == DispatchKind.DISPATCH else "status"
    token = exchange.seal(
        type=message_type,
        iss=settings.INSTANCE_ID,
        aud=dest.instance_id,
        envelope_id=str(d.envelope_id),
        body=partner_body(d) if message_type == "report" else d.body,
        signing_key=keys.signing_key(),
        recipient_jwks=dest.public_jwks,
        now=now,
        in_reply_to=d.in_reply_to,
        jti=jti,
    )
    answer = transport.post(dest.endpoint_url, token)
    detail = _answer_detail(answer.body)
    if answer.status != 200:
        permanent = 400 <= answer.status < 500 and answer.status not in (408, 425, 429)
        raise edges.DeliveryError(
            f"{dest.code} answered {answer.status}: {detail}", permanent=permanent
        )
    try:
        receipt_token = json.loads(answer.body)["receipt"]
        receipt = exchange.verify_receipt(
            receipt_token,
            sender_jwks=dest.public_jwks,
            expected_iss=dest.instance_id,
            own_id=settings.INSTANCE_ID,
            envelope_id=str(d.envelope_id),
            acknowledges_jti=jti,
            now=now,
        )
    except (ValueError, KeyError, TypeError, RecursionError, exchange.ExchangeError) as exc:
        raise edges.DeliveryError(f"{dest.code} answered without a valid receipt: {exc}") from exc
    return {
        "state": DispatchState.ACKNOWLEDGED,
        "sent_at": d.sent_at or now,
        "acknowledged_at": now,
        "receipt": receipt_token,
        "reference": str(receipt.body.get("reference", ""))[:200],
    }


def _answer_detail(body: bytes) -> str:
    try:
        return str(json.loads(body).get("detail", ""))[:500]
    except (ValueError, AttributeError, RecursionError):  # a partner's answer is not ours
        return body[:200].decode("utf-8", "replace")


def partner_body(d: Dispatch) -> dict[str, Any]:
    """What a partner hotline receives about an item: a report in the shape of
    `POST /api/v1/reports` plus our assessment. Never our reporters' personal data."""
    item = d.item
    assert item is not None
    excerpt = (
        Report.objects.filter(report_items__item=item)
        .exclude(excerpt="")
        .order_by("id")
        .values_list("excerpt", flat=True)
        .first()
    ) or item.text
    report: dict[str, Any] = {
        "category": item.theme,
        "description": (
            f"Forwarded by {settings.HOTLINE_NAME} ({settings.COUNTRY}), "
            f"reference {_reference(d)}: {item.report_count} report(s) between "
            f"{item.first_reported_at:%Y-%m-%d} and {item.last_reported_at:%Y-%m-%d}."
        ),
        "reporter": {"name": settings.HOTLINE_NAME[:200], "country": settings.COUNTRY},
        "occurred_at": item.first_reported_at.isoformat(),
    }
    if item.url:
        report["urls"] = [reported_url(item)]
    if excerpt:
        report["excerpt"] = excerpt[:MAX_EXCERPT_CHARS]
    return {
        "report": report,
        "assessment": {
            "theme": item.theme,
            "classification": item.classification or "unassessed",
            "assessed_at": item.assessed_at.isoformat() if item.assessed_at else None,
        },
        "reference": _reference(d),
    }


def reported_url(item: Item) -> str:
    """The address as first reported: the canonical URL identifies the item but drops
    what a reader needs to reach it, such as the port."""
    first = (
        ReportItem.objects.filter(item=item).order_by("id").values_list("as_reported", flat=True)
    ).first()
    first = (first or "").strip()
    return first if "://" in first else item.url


# --- E-mail ---------------------------------------------------------------------------------


def _email(d: Dispatch) -> EmailMessage:
    if d.kind == DispatchKind.ALERT:
        return EmailMessage(
            subject=f"[Tipline] {d.body.get('subject', 'alert')}",
            body=str(d.body.get("text", "")),
            to=[d.address],
            headers={"X-Tipline-Reference": _reference(d)},
        )
    dest = d.destination
    assert dest is not None and d.item is not None
    if not dest.email:
        raise edges.DeliveryError(f"{dest.code} has no e-mail address", permanent=True)
    language = dest.language if dest.language in LANGUAGES else "en"
    context = _mail_context(d)
    template = "notice" if d.kind == DispatchKind.NOTICE else "referral"
    with translation.override(language):
        text = render_to_string(f"orient/mail/{template}_{language}.txt", context)
    subject, _, body = text.strip().partition("\n")
    return EmailMessage(
        subject=subject.strip(),
        body=body.strip() + "\n",
        to=[dest.email],
        headers={"X-Tipline-Reference": _reference(d), "Message-ID": f"<{d.envelope_id}@tipline>"},
    )


def _mail_context(d: Dispatch) -> dict[str, Any]:
    item = d.item
    assert item is not None
    takedown = Takedown.objects.filter(item=item).first()
    # The first capture and the latest ones: a reminder shows the check that saw it online.
    captures = list(item.captures.exclude(body_sha256="").order_by("fetched_at", "id"))
    shown = captures if len(captures) <= 5 else [captures[0], *captures[-4:]]
    return {
        "reference": _reference(d),
        "hotline": settings.HOTLINE_NAME,
        "item": item,
        "url": reported_url(item),
        "sequence": d.sequence,
        "first_notice_at": takedown.first_notice_at if takedown else None,
        "flag": d.flag,
        "evidence": [
            {"when": c.fetched_at, "status": c.status, "sha256": c.body_sha256} for c in shown
        ],
        "reports": item.report_count,
    }


# --- After sending --------------------------------------------------------------------------


def _after_sent(d: Dispatch, now: datetime) -> None:
    """What a delivery sets in motion: a notice opens (or feeds) the page's takedown
    follow-up; a referral to police is reported back to the partner that sent the item."""
    if d.item_id is None:
        return
    if d.kind == DispatchKind.NOTICE:
        if Takedown.objects.filter(item_id=d.item_id, state=TakedownState.REMOVED).exists():
            return  # sent while the content was being found gone: nothing to follow
        takedown, _ = Takedown.objects.get_or_create(
            item_id=d.item_id,
            defaults={
                "host": d.item.host if d.item else "",
                "country": (d.routing.facts.get("hosting_country", "") if d.routing else ""),
                "state": TakedownState.OPEN,
                "opened_at": now,
            },
        )
        Takedown.objects.filter(id=takedown.id).update(
            notices=takedown.notices + 1,
            first_notice_at=takedown.first_notice_at or now,
            last_notice_at=now,
            next_check_at=now + timedelta(seconds=settings.TAKEDOWN_CHECK_S),
        )
    elif d.kind == DispatchKind.DISPATCH and d.destination is not None:
        if d.destination.kind == DestinationKind.OFFICE:
            partner_statuses_queue(
                item_id=d.item_id, status="forwarded_to_police", now=now, office=d.destination.name
            )
