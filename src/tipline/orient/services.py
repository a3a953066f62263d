"""Orient's writes: routing items by the rules, the decisions people take on dispatches,
partners and rules, and receiving partners' envelopes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from tipline.common.audit import audit_record
from tipline.common.bulk import insert_rows, select_in
from tipline.harmonize.models import Item
from tipline.harmonize.services import item_assess
from tipline.harmonize.taxonomy import AgeCategory, Classification, Theme
from tipline.harmonize.urls import registrable_domain
from tipline.intake.choices import Channel
from tipline.intake.core import IntakeError, parse_report
from tipline.intake.services import Received, reports_receive

from . import core, exchange, keys, outbox, selectors
from .models import (
    Destination,
    DestinationKind,
    Dispatch,
    DispatchKind,
    DispatchState,
    InboundEnvelope,
    Routing,
    Rule,
    SeenTransmission,
    Takedown,
    TakedownState,
)

log = logging.getLogger(__name__)

PERSON = core.WAITING_PERSON


class OrientError(Exception):
    """A request Orient refuses, with the reason in words; `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- Rules ----------------------------------------------------------------------------------


def rules_current() -> tuple[list[core.Rule], str]:
    """The rules in force, in order, and a key that changes when any of them changes."""
    rows = [r.as_dict() for r in Rule.objects.order_by("position", "id")]
    rules = [core.rule_from_dict(r, position=i + 1) for i, r in enumerate(rows)]
    key = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    return rules, key


@transaction.atomic
def rules_replace(*, rules: Sequence[core.Rule]) -> int:
    """Replace every rule by these (a YAML import); items are routed again as they move.
    An empty set is refused: it would hold every item without a word."""
    if not rules:
        raise OrientError("no rule in the file: every item would be held; nothing was changed")
    Rule.objects.all().delete()
    audit_record(
        actor="tipline rules import",
        action="rules.import",
        target="rules",
        detail={"rules": [r.name for r in rules]},
    )
    for position, rule in enumerate(rules, start=1):
        data = core.rule_to_dict(rule)
        Rule.objects.create(
            position=position * 10,
            name=rule.name,
            description=rule.description,
            when=data.get("when", {}),
            then=data["then"],
            final=rule.final,
            enabled=rule.enabled,
        )
    return len(rules)


# --- Destinations ---------------------------------------------------------------------------


def partner_save(
    *,
    code: str,
    name: str,
    country: str,
    endpoint_url: str,
    instance_id: str,
    jwks: Any,
    inhope_member: bool = True,
    language: str = "en",
) -> Destination:
    """Add a partner hotline, or update its address and keys (after they rotate)."""
    checked = exchange.check_public_jwks(jwks)
    other = (
        Destination.objects.filter(kind=DestinationKind.PARTNER, instance_id=instance_id)
        .exclude(code=code)
        .first()
    )
    if other is not None:
        raise OrientError(
            f"instance {instance_id} is already partner {other.code}: update that one "
            f"(--code {other.code}) instead of adding it twice"
        )
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise OrientError(f"country {country!r}: expected an ISO 3166 alpha-2 code such as DE")
    dest, _ = Destination.objects.update_or_create(
        code=code,
        defaults={
            "kind": DestinationKind.PARTNER,
            "name": name,
            "country": country,
            "endpoint_url": endpoint_url,
            "instance_id": instance_id,
            "public_jwks": checked,
            "inhope_member": inhope_member,
            "language": language,
            "is_active": True,
        },
    )
    audit_record(
        actor="tipline partners add",
        action="partner.save",
        target=f"destination:{dest.code}",
        detail={"instance_id": instance_id, "url": endpoint_url, "country": country},
    )
    return dest


def host_destination(*, abuse_email: str, host: str, country: str) -> Destination:
    """The abuse desk of a host, as Analyze found it (or an analyst entered it)."""
    email = abuse_email.strip().lower()
    code = "host-" + hashlib.sha256(email.encode()).hexdigest()[:10]
    domain = email.rsplit("@", 1)[-1]
    dest, _ = Destination.objects.get_or_create(
        code=code,
        defaults={
            "kind": DestinationKind.HOST,
            "name": f"Abuse desk of {domain}"[:200],
            "email": email,
            "country": country,
            "language": "fr" if country in ("FR", "BE", "LU", "MC") else "en",
            "note": f"Found by the hosting lookup of {host}",
        },
    )
    return dest


def _office_for(theme: str) -> Destination | None:
    offices = list(Destination.objects.filter(kind=DestinationKind.OFFICE, is_active=True))
    for office in offices:
        if theme in (office.themes or []):
            return office
    return next((o for o in offices if not o.themes), None)


def _destination_for(action: core.Action, facts: core.ItemFacts) -> Destination | str:
    """Who an action names, or why nobody can be found."""
    if action.to == "office":
        office = _office_for(facts.theme)
        return office or f"no competent office for theme {facts.theme} in the directory"
    if action.to == "partner":
        partner = Destination.objects.filter(
            kind=DestinationKind.PARTNER, country=facts.hosting_country, is_active=True
        ).first()
        return partner or f"no active partner hotline for {facts.hosting_country or '?'}"
    named = Destination.objects.filter(code=action.to, is_active=True).first()
    return named or f"no active destination with code {action.to!r}"


# --- Routing --------------------------------------------------------------------------------


def reports_orient(report_ids: Sequence[int]) -> None:
    """The orient step of the pipeline, inside the runner's transaction: route the items
    of these reports."""
    items_route(item_ids=selectors.items_of_reports(report_ids))


def _facts_key(facts: core.ItemFacts, rules_key: str) -> str:
    data = json.dumps(dataclasses.asdict(facts), sort_keys=True, default=str)
    return hashlib.sha256((data + rules_key).encode()).hexdigest()


def items_route(*, item_ids: Sequence[int], now: datetime | None = None) -> int:
    """Route items by the rules in force; only items whose facts (or the rules) changed
    get a new decision. Returns how many did. A batch costs a handful of queries; only
    decisions that send something, or items with proposals, cost more."""
    if not item_ids:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        # Routing the same item twice at once would propose its dispatches twice.
        list(Item.objects.select_for_update().filter(id__in=item_ids).order_by("id").values("id"))
        facts = selectors.item_facts(item_ids)
        rules, rules_key = rules_current()
        current = dict(
            Routing.objects.filter(item_id__in=item_ids, is_current=True).values_list(
                "item_id", "facts_key"
            )
        )
        decided: list[tuple[core.ItemFacts, core.Decision, Routing]] = []
        for item_id in sorted(facts):
            f = facts[item_id]
            key = _facts_key(f, rules_key)
            if current.get(item_id) == key:
                continue
            decision = core.route(f, rules)
            routing = Routing(
                item_id=item_id,
                facts=dataclasses.asdict(f),
                facts_key=key,
                rules=[x.rule for x in decision.fired],
                reason=decision.reason,
                hold=decision.hold,
                escalate=decision.escalate,
                close_as=decision.close_as,
                priority=f.priority,
                hosting_country=f.hosting_country,
                known_content=f.known_content,
                decided_at=now,
            )
            decided.append((f, decision, routing))
        if not decided:
            return 0
        changed_ids = [f.item_id for f, _, _ in decided]
        Routing.objects.filter(item_id__in=changed_ids, is_current=True).update(is_current=False)
        _routings_insert([r for _, _, r in decided])
        proposals = set(
            Dispatch.objects.filter(
                item_id__in=changed_ids, state=DispatchState.PROPOSED
            ).values_list("item_id", flat=True)
        )
        for f, decision, routing in decided:
            sends = any(a.do in ("dispatch", "notice", "escalate") for a in decision.actions)
            if sends or f.item_id in proposals:
                _reconcile(routing, decision, f, now)
    return len(decided)


_ROUTING_COLUMNS = tuple(f.attname for f in Routing._meta.concrete_fields if not f.primary_key)


def _routings_insert(routings: Sequence[Routing]) -> None:
    """Insert new current routings and give them their ids: one executemany (Django's
    bulk_create compiles its SQL value by value, a third of the stage's writes)."""
    insert_rows(
        Routing, _ROUTING_COLUMNS, [[getattr(r, c) for c in _ROUTING_COLUMNS] for r in routings]
    )
    ids = dict(
        select_in(Routing, ["item", "id"], "item", [r.item_id for r in routings], is_current=True)
    )
    for routing in routings:
        routing.id = ids[routing.item_id]


def _reconcile(
    routing: Routing, decision: core.Decision, facts: core.ItemFacts, now: datetime
) -> None:
    """Make the item's outbox match the decision: propose or queue what it asks for, keep
    what is already on its way, cancel automatic proposals it no longer asks for."""
    problems: list[str] = []
    wanted: list[tuple[str, Destination, core.Action]] = []
    for action in decision.actions:
        if action.do == "dispatch":
            dest = _destination_for(action, facts)
            if isinstance(dest, str):
                problems.append(dest)
            else:
                wanted.append((DispatchKind.DISPATCH, dest, action))
        elif action.do == "notice":
            if not facts.abuse_email:
                problems.append(f"no abuse contact known for {facts.host or 'the host'} yet")
            else:
                dest = host_destination(
                    abuse_email=facts.abuse_email, host=facts.host, country=facts.hosting_country
                )
                wanted.append((DispatchKind.NOTICE, dest, action))
        elif action.do == "escalate":
            _escalate(routing, now)
    existing = list(
        Dispatch.objects.filter(
            item_id=routing.item_id, kind__in=[DispatchKind.DISPATCH, DispatchKind.NOTICE]
        ).exclude(state=DispatchState.CANCELLED)
    )
    queued: list[int] = []
    keep: set[tuple[str, int]] = set()
    for kind, dest, action in wanted:
        keep.add((kind, dest.id))
        waiting = core.waiting_for(
            action, facts, known_content_counts_as_assessed=settings.ORIENT_KNOWN_IS_ASSESSED
        )
        same = [d for d in existing if d.kind == kind and d.destination_id == dest.id]
        if same:
            d = same[0]
            if d.state == DispatchState.PROPOSED:
                if waiting == PERSON and d.confirmed_by_id:
                    waiting = ""
                if not waiting:
                    _queue(d, now)
                    queued.append(d.id)
                elif d.waiting_for != waiting:
                    Dispatch.objects.filter(id=d.id).update(waiting_for=waiting)
            continue  # already on its way or done: never sent twice
        d = Dispatch.objects.create(
            item_id=routing.item_id,
            routing=routing,
            destination=dest,
            kind=kind,
            state=DispatchState.PROPOSED if waiting else DispatchState.PENDING,
            waiting_for=waiting,
            flag=action.flag[:200],
            body={"rule_reason": routing.reason[:2000]},
            created_at=now,
            queued_at=None if waiting else now,
            next_attempt_at=None if waiting else now,
        )
        if not waiting:
            queued.append(d.id)
    for d in existing:
        automatic = d.proposed_by_id is None
        if (
            d.state == DispatchState.PROPOSED
            and automatic
            and (d.kind, d.destination_id) not in keep
        ):
            Dispatch.objects.filter(id=d.id).update(
                state=DispatchState.CANCELLED,
                cancel_reason=f"routing changed: {routing.reason}"[:300],
                closed_at=now,
            )
    if problems:
        Routing.objects.filter(id=routing.id).update(problems=problems)
    outbox.deliver_soon(queued)


def _queue(d: Dispatch, now: datetime) -> None:
    Dispatch.objects.filter(id=d.id, state=DispatchState.PROPOSED).update(
        state=DispatchState.PENDING, waiting_for="", queued_at=now, next_attempt_at=now
    )


def _escalate(routing: Routing, now: datetime) -> None:
    """P1: the supervisor on duty hears of it at once — once per item."""
    if Dispatch.objects.filter(item_id=routing.item_id, kind=DispatchKind.ALERT).exists():
        return
    outbox.alert_queue(
        item_id=routing.item_id,
        subject=f"Escalation: item {routing.item_id}",
        text=f"Item {routing.item_id} needs attention now.\n\n{routing.reason}",
        now=now,
    )


# --- People's decisions ---------------------------------------------------------------------


def item_classify(
    *,
    item_id: int,
    theme: Theme,
    classification: Classification,
    user: AbstractBaseUser | None,
    age_category: AgeCategory | None = None,
    duplicate_of: int | None = None,
) -> dict[str, Any]:
    """An analyst's assessment: recorded, the item routed again on it, and each partner
    that sent us the item told."""
    now = timezone.now()
    with transaction.atomic():
        item = item_assess(
            item_id=item_id,
            theme=theme,
            classification=classification,
            age_category=age_category,
            duplicate_of=duplicate_of,
        )
        detail = {"theme": str(theme), "classification": str(classification)}
        if item.age_category:
            detail["age_category"] = item.age_category
        if duplicate_of:
            detail["duplicate_of"] = str(duplicate_of)
        audit_record(actor=user, action="item.assess", target=f"item:{item_id}", detail=detail)
        items_route(item_ids=[item_id], now=now)
        outbox.partner_statuses_queue(
            item_id=item_id,
            status="assessed",
            now=now,
            theme=str(theme),
            classification=str(classification),
        )
    return selectors.item_routing(item_id)


def item_close_duplicate(
    *, item_id: int, of_item_id: int, user: AbstractBaseUser | None, note: str = ""
) -> dict[str, Any]:
    """Close an item as the same content as another: it takes the other item's theme and
    classification, and the "duplicate" rule closes it (its automatic proposals are
    cancelled by routing again). A chain of duplicates points at the first item."""
    if of_item_id == item_id:
        raise OrientError("an item cannot be a duplicate of itself", status=422)
    other = Item.objects.filter(id=of_item_id).first()
    seen = {item_id}
    while other is not None and other.duplicate_of_id is not None:
        if other.id in seen:
            break
        seen.add(other.id)
        other = Item.objects.filter(id=other.duplicate_of_id).first()
    if other is None:
        raise OrientError(f"there is no item {of_item_id} to be a duplicate of", status=404)
    if other.id == item_id:
        raise OrientError(f"item {of_item_id} is already a duplicate of this item", status=422)
    with transaction.atomic():
        result = item_classify(
            item_id=item_id,
            theme=Theme(other.theme),
            classification=Classification(other.classification),
            age_category=AgeCategory(other.age_category) if other.age_category else None,
            duplicate_of=other.id,
            user=user,
        )
        if note.strip():
            audit_record(
                actor=user,
                action="item.duplicate_note",
                target=f"item:{item_id}",
                detail={"of": other.id, "note": note.strip()[:500]},
            )
    return result


def dispatch_propose(
    *, item_id: int, destination_code: str, user: AbstractBaseUser, note: str = ""
) -> Dispatch:
    """An analyst proposes sending an item somewhere the rules did not; a second person
    confirms it (four eyes)."""
    now = timezone.now()
    dest = Destination.objects.filter(code=destination_code, is_active=True).first()
    if dest is None:
        raise OrientError(f"no active destination with code {destination_code!r}", status=404)
    if not Item.objects.filter(id=item_id).exists():
        raise OrientError(f"no item {item_id}", status=404)
    kind = DispatchKind.NOTICE if dest.kind == DestinationKind.HOST else DispatchKind.DISPATCH
    with transaction.atomic():
        same = Dispatch.objects.filter(item_id=item_id, destination=dest, kind=kind).exclude(
            state=DispatchState.CANCELLED
        )
        if same.exists():
            raise OrientError(
                f"item {item_id} already has a {kind} to {dest.code} (#{same.first().id})",  # type: ignore[union-attr]
                status=409,
            )
        d = Dispatch.objects.create(
            item_id=item_id,
            destination=dest,
            kind=kind,
            state=DispatchState.PROPOSED,
            waiting_for=PERSON,
            flag=note[:200],
            proposed_by_id=user.pk,
            created_at=now,
        )
        audit_record(
            actor=user,
            action="dispatch.propose",
            target=f"dispatch:{d.id}",
            detail={"item": item_id, "destination": dest.code, "note": note[:200]},
        )
        return d


@transaction.atomic
def dispatch_confirm(*, dispatch_id: int, user: AbstractBaseUser) -> Dispatch:
    """A person confirms a proposed dispatch. Nobody confirms their own proposal; an item
    still waiting for its assessment cannot be confirmed past it."""
    d = Dispatch.objects.select_for_update().get(id=dispatch_id)
    if d.state != DispatchState.PROPOSED:
        raise OrientError(f"dispatch {d.id} is {d.state}, not proposed", status=409)
    if d.proposed_by_id is not None and d.proposed_by_id == user.pk:
        raise OrientError("you proposed this dispatch: another person must confirm it", status=403)
    if d.waiting_for and d.waiting_for != PERSON:
        raise OrientError(f"dispatch {d.id} is {d.waiting_for}", status=409)
    now = timezone.now()
    d.confirmed_by_id = user.pk
    d.state = DispatchState.PENDING
    d.waiting_for = ""
    d.queued_at = d.next_attempt_at = now
    d.save(update_fields=["confirmed_by", "state", "waiting_for", "queued_at", "next_attempt_at"])
    audit_record(actor=user, action="dispatch.confirm", target=f"dispatch:{d.id}")
    outbox.deliver_soon([d.id])
    return d


@transaction.atomic
def dispatch_cancel(*, dispatch_id: int, user: AbstractBaseUser | None, reason: str) -> Dispatch:
    """Stop a dispatch that has not gone yet. One being sent right now cannot be stopped."""
    now = timezone.now()
    d = Dispatch.objects.select_for_update().get(id=dispatch_id)
    if d.state not in (DispatchState.PROPOSED, DispatchState.PENDING, DispatchState.FAILED):
        raise OrientError(
            f"dispatch {d.id} is already {d.state}: it cannot be cancelled", status=409
        )
    if d.claimed_until and d.claimed_until > now:
        raise OrientError(f"dispatch {d.id} is being delivered right now; try again", status=409)
    d.state = DispatchState.CANCELLED
    d.cancel_reason = (reason or "cancelled")[:300]
    d.closed_at = now
    d.save(update_fields=["state", "cancel_reason", "closed_at"])
    audit_record(
        actor=user, action="dispatch.cancel", target=f"dispatch:{d.id}", detail={"reason": reason}
    )
    return d


@transaction.atomic
def dispatch_retry(*, dispatch_id: int, user: AbstractBaseUser | None = None) -> Dispatch:
    """Put a failed or undeliverable row back in the outbox (after fixing its destination)."""
    now = timezone.now()
    d = Dispatch.objects.select_for_update().get(id=dispatch_id)
    if d.state not in (DispatchState.FAILED, DispatchState.UNDELIVERABLE):
        raise OrientError(f"dispatch {d.id} is {d.state}: only failed ones are retried", status=409)
    d.state = DispatchState.PENDING
    d.queued_at = d.next_attempt_at = now
    d.closed_at = None
    d.save(update_fields=["state", "queued_at", "next_attempt_at", "closed_at"])
    audit_record(actor=user, action="dispatch.retry", target=f"dispatch:{d.id}")
    outbox.deliver_soon([d.id])
    return d


@transaction.atomic
def is_liaison_of(user: Any, d: Dispatch) -> bool:
    """Hotline staff (who read routing) act on any dispatch; a liaison officer only on
    what went to an office they are the liaison of."""
    if user.has_perm("orient.view_routing"):
        return True
    return bool(
        d.destination_id
        and Destination.liaisons.through.objects.filter(
            destination_id=d.destination_id, user_id=user.pk
        ).exists()
    )


def dispatch_acknowledge(
    *, dispatch_id: int, reference: str = "", user: AbstractBaseUser | None = None
) -> Dispatch:
    """An office confirms by other means (a liaison officer, a reply e-mail) that it has
    the dispatch."""
    d = Dispatch.objects.select_for_update().get(id=dispatch_id)
    if user is not None and not is_liaison_of(user, d):
        raise OrientError(
            f"dispatch {d.id} went to another office: you are not its liaison officer",
            status=403,
        )
    if d.state != DispatchState.SENT:
        raise OrientError(
            f"dispatch {d.id} is {d.state}: only sent ones are acknowledged", status=409
        )
    d.state = DispatchState.ACKNOWLEDGED
    d.acknowledged_at = timezone.now()
    d.reference = reference[:200] or d.reference
    d.save(update_fields=["state", "acknowledged_at", "reference"])
    audit_record(
        actor=user,
        action="dispatch.acknowledge",
        target=f"dispatch:{d.id}",
        detail={"reference": d.reference},
    )
    return d


def item_removed(
    *,
    item_id: int,
    how: str,
    when: datetime | None = None,
    since: datetime | None = None,
    user: AbstractBaseUser | None = None,
) -> Takedown:
    """The content is gone (a re-check saw it, the host or a partner said so, an analyst
    checked): the takedown closes with its time, notices not sent yet are cancelled, and
    partners that sent the item are told. `since` is when we first acted on it, for a
    takedown we did not notice ourselves (a partner's removal counts from our dispatch)."""
    now = timezone.now()
    when = when or now
    with transaction.atomic():
        item = Item.objects.select_for_update().get(id=item_id)
        takedown, _ = Takedown.objects.get_or_create(
            item=item,
            defaults={
                "host": item.host,
                "state": TakedownState.OPEN,
                "opened_at": since or when,
                "first_notice_at": None,
            },
        )
        if takedown.state != TakedownState.REMOVED:
            takedown.state = TakedownState.REMOVED
            takedown.removed_at = when
            takedown.removed_how = how[:200]
            takedown.next_check_at = None
            takedown.save(update_fields=["state", "removed_at", "removed_how", "next_check_at"])
            Dispatch.objects.filter(
                item_id=item_id,
                kind=DispatchKind.NOTICE,
                state__in=[DispatchState.PROPOSED, DispatchState.PENDING],
                claimed_until__isnull=True,
            ).update(state=DispatchState.CANCELLED, cancel_reason="content removed", closed_at=now)
            outbox.partner_statuses_queue(
                item_id=item_id, status="content_removed", now=now, removed_at=when.isoformat()
            )
            if user is not None:
                audit_record(
                    actor=user, action="item.removed", target=f"item:{item_id}", detail={"how": how}
                )
    return takedown


# --- Receiving from partners ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Accepted:
    receipt: str
    duplicate: bool
    reference: str


def envelope_receive(*, token: str, remote: str = "") -> Accepted:
    """Open a partner's envelope, check it, and act on it exactly once: a report is
    stored on the partner channel, a status update is recorded on what we sent. Raises
    exchange.ExchangeError (nothing stored) or OrientError."""
    now = timezone.now()
    iss = exchange.sender_of(token)
    sender = Destination.objects.filter(
        kind=DestinationKind.PARTNER, instance_id=iss, is_active=True
    ).first()
    if sender is None:
        raise exchange.ExchangeError(
            "unknown_sender", f"{iss!r} is not one of our partner hotlines"
        )
    message = exchange.open_sealed(
        token,
        own_keys=keys.own_keys(),
        sender_jwks=sender.public_jwks,
        expected_iss=sender.instance_id,
        own_id=settings.INSTANCE_ID,
        now=now,
    )
    if message.type not in ("report", "status"):
        raise exchange.ExchangeError("bad_claims", f"a {message.type} is not sent to an inbox")
    try:
        with transaction.atomic():
            SeenTransmission.objects.create(jti=message.jti, received_at=now)
            earlier = InboundEnvelope.objects.filter(
                sender=sender, envelope_id=message.envelope_id
            ).first()
            if earlier is not None:
                reference, duplicate = earlier.reference, True
            elif message.type == "report":
                reference, duplicate = _receive_report(sender, message, now), False
            else:
                reference, duplicate = _receive_status(sender, message, now), False
    except IntegrityError:
        if SeenTransmission.objects.filter(jti=message.jti).exists():
            raise exchange.ExchangeError(
                "replayed", f"transmission {message.jti} was already received"
            ) from None
        # The same envelope arrived twice at once: the other copy is being stored.
        raise OrientError(
            f"envelope {message.envelope_id} is being received right now; send it again",
            status=503,
        ) from None
    receipt = exchange.sign_receipt(
        iss=settings.INSTANCE_ID,
        aud=sender.instance_id,
        envelope_id=message.envelope_id,
        acknowledges_jti=message.jti,
        body={"status": "duplicate" if duplicate else "received", "reference": reference},
        signing_key=keys.signing_key(),
        now=now,
    )
    log.info(
        "envelope %s (%s) from %s accepted%s",
        message.envelope_id,
        message.type,
        sender.code,
        " again (duplicate)" if duplicate else "",
    )
    return Accepted(receipt=receipt, duplicate=duplicate, reference=reference)


def _receive_report(sender: Destination, message: exchange.Message, now: datetime) -> str:
    body = message.body.get("report")
    try:
        draft = parse_report(body, max_media_bytes=settings.INTAKE_MAX_MEDIA_BYTES)
    except IntakeError as exc:
        detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
        raise OrientError(f"the envelope's report is invalid: {detail}", status=422) from exc
    result = reports_receive(drafts=[(0, draft)], channel=Channel.PARTNER)[0]
    assert isinstance(result, Received)  # without a provider nothing is refused
    InboundEnvelope.objects.create(
        sender=sender,
        envelope_id=message.envelope_id,
        type="report",
        report_id=result.report_id,
        reference=result.receipt,
        received_at=now,
    )
    return result.receipt


STATUSES = ("assessed", "forwarded_to_police", "content_removed")


def _receive_status(sender: Destination, message: exchange.Message, now: datetime) -> str:
    status = message.body.get("status")
    if status not in STATUSES:
        raise OrientError(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    try:
        replied = uuid.UUID(message.in_reply_to)
    except ValueError:
        raise OrientError(f"in_reply_to {message.in_reply_to!r} is not an envelope id") from None
    d = Dispatch.objects.filter(destination=sender, envelope_id=replied).first()
    if d is None:
        raise OrientError(
            f"no dispatch with envelope id {message.in_reply_to!r} was sent to {sender.code}",
            status=404,
        )
    update = {"status": status, "received_at": now.isoformat(), **message.body}
    Dispatch.objects.filter(id=d.id).update(updates=[*d.updates, update])
    InboundEnvelope.objects.create(
        sender=sender,
        envelope_id=message.envelope_id,
        type="status",
        in_reply_to=message.in_reply_to,
        reference=str(d.envelope_id),
        received_at=now,
    )
    if status == "content_removed" and d.item_id is not None:
        item_removed(
            item_id=d.item_id,
            how=f"partner {sender.code} reported it removed",
            since=d.sent_at or d.created_at,
        )
    return str(d.envelope_id)


def hosting_changed(*, host: str) -> int:
    """A host's lookup finished: its items are routed again on what it found."""
    # Items are indexed by registrable domain, not host: narrow by it first.
    domain = registrable_domain(host) or ""
    ids = list(Item.objects.filter(domain=domain, host=host).values_list("id", flat=True)[:10_000])
    return items_route(item_ids=ids)
