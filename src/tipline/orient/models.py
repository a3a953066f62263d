"""Orient's tables: who we send to (destinations), the rules that decide it, each routing
decision with its reason, the outbox of dispatches and notices, the partner exchange's keys
and inbox, and the follow-up of each takedown."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tipline.harmonize.models import Item
from tipline.intake.models import Report

from . import core


class DestinationKind(models.TextChoices):
    OFFICE = "office", "competent office (law enforcement)"
    PARTNER = "partner", "partner hotline"
    HOST = "host", "hosting provider or platform"


class Destination(models.Model):
    """Someone Orient sends to: a competent office (by theme), a partner hotline (by
    country, with its endpoint and public keys) or a hosting provider's abuse desk."""

    kind = models.CharField(max_length=8, choices=DestinationKind.choices)
    code = models.SlugField(max_length=80, unique=True, help_text="Rules name it: police-cyber")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    themes = models.JSONField(
        default=list, blank=True, help_text="Offices: themes it is competent for; [] = any"
    )
    email = models.EmailField(blank=True, help_text="Offices and hosts receive e-mail")
    language = models.CharField(max_length=8, default="en", help_text="Of notices: en, fr")
    endpoint_url = models.URLField(blank=True, help_text="Partners: their exchange inbox URL")
    instance_id = models.CharField(
        max_length=200, blank=True, help_text="Partners: the id they sign with (iss)"
    )
    public_jwks = models.JSONField(
        default=dict, blank=True, help_text="Partners: their public JWK Set"
    )
    inhope_member = models.BooleanField(default=False)
    liaisons = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="liaison_offices",
        help_text="Offices: liaison officers who see what was dispatched to this office",
    )
    is_active = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id"],
                condition=Q(kind="partner"),
                name="partner_instance_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Rule(models.Model):
    """One routing rule, in order: when its conditions hold for an item, its actions are
    proposed. The same shape as the YAML export (`tipline rules export`)."""

    position = models.PositiveIntegerField(default=0, db_index=True)
    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True)
    when = models.JSONField(default=dict, blank=True)
    then = models.JSONField(default=list)
    final = models.BooleanField(default=True, help_text="Stop at this rule when it fires")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "when": self.when,
            "then": self.then,
            "final": self.final,
            "enabled": self.enabled,
        }

    def clean(self) -> None:
        try:
            core.rule_from_dict(self.as_dict())
        except core.RuleError as exc:
            raise ValidationError(str(exc)) from exc


class Routing(models.Model):
    """A routing decision for an item: the facts it was taken on, the rules that fired and
    why, in words. A new decision replaces the current one when the facts change."""

    item = models.ForeignKey(Item, related_name="routings", on_delete=models.CASCADE)
    facts = models.JSONField()
    facts_key = models.CharField(max_length=64, help_text="SHA-256 of the facts and the rules")
    rules = models.JSONField(default=list, help_text="Names of the rules that fired")
    reason = models.TextField()
    hold = models.BooleanField(default=False)
    escalate = models.BooleanField(default=False)
    close_as = models.CharField(max_length=16, blank=True)
    # Copied from the facts, for the analysts' queue to filter and order on.
    priority = models.CharField(max_length=2, default="P4")
    hosting_country = models.CharField(max_length=2, blank=True)
    known_content = models.BooleanField(default=False)
    problems = models.JSONField(default=list, help_text="What could not be resolved")
    is_current = models.BooleanField(default=True)
    decided_at = models.DateTimeField()

    class Meta:
        indexes = [
            # An item's current routing, and (covering) what the analysts' queue filters
            # on: the queue walks the waiting items and looks each one up here. An index
            # leading with is_current would tempt SQLite's planner to walk every current
            # routing instead (a million at a million items).
            models.Index(
                fields=["item", "is_current", "priority", "hosting_country", "close_as", "id"],
                name="routing_item_current_idx",
            ),
            # Known content handled automatically today (the queue's header).
            models.Index(
                fields=["decided_at"],
                condition=Q(is_current=True, known_content=True),
                name="routing_known_idx",
            ),
        ]
        permissions = [
            ("assess_item", "Assess an item (theme, classification)"),
            ("state_hosting", "State where a host is served from"),
            ("record_removal", "Record that content is gone"),
        ]

    def __str__(self) -> str:
        return f"routing of item {self.item_id}: {', '.join(self.rules) or 'no rule'}"


class DispatchKind(models.TextChoices):
    DISPATCH = "dispatch", "dispatch (office or partner)"
    NOTICE = "notice", "notice to the host"
    STATUS = "status", "status update to a partner"
    ALERT = "alert", "alert to the supervisor on duty"


class DispatchState(models.TextChoices):
    PROPOSED = "proposed", "proposed: waiting before it may go"
    PENDING = "pending", "pending: in the outbox"
    SENT = "sent", "sent"
    ACKNOWLEDGED = "acknowledged", "acknowledged by the receiver"
    FAILED = "failed", "failed: refused by the receiver"
    UNDELIVERABLE = "undeliverable", "undeliverable: gave up"
    CANCELLED = "cancelled", "cancelled"


class Dispatch(models.Model):
    """An outbox row: one message about one item to one destination — a dispatch to an
    office or a partner hotline, a notice to a host, a status update to the partner that
    sent us a report, or an alert. Written in the transaction of the decision; delivered
    at least once by a worker; `envelope_id` is what receivers de-duplicate on."""

    item = models.ForeignKey(
        Item, related_name="dispatches", null=True, blank=True, on_delete=models.PROTECT
    )
    routing = models.ForeignKey(
        Routing, related_name="dispatches", null=True, blank=True, on_delete=models.SET_NULL
    )
    destination = models.ForeignKey(
        Destination, related_name="dispatches", null=True, blank=True, on_delete=models.PROTECT
    )
    address = models.CharField(max_length=254, blank=True, help_text="Alerts: the e-mail")
    kind = models.CharField(max_length=8, choices=DispatchKind.choices)
    state = models.CharField(max_length=16, choices=DispatchState.choices)
    waiting_for = models.CharField(max_length=200, blank=True)
    flag = models.CharField(max_length=200, blank=True)
    envelope_id = models.UUIDField(default=uuid.uuid4, unique=True)
    in_reply_to = models.CharField(max_length=64, blank=True)
    body = models.JSONField(default=dict, blank=True)
    sequence = models.PositiveSmallIntegerField(default=1, help_text="Notices: 1st, 2nd…")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    receipt = models.TextField(blank=True, help_text="The receiver's signed receipt")
    reference = models.CharField(max_length=200, blank=True, help_text="The receiver's ref")
    updates = models.JSONField(default=list, blank=True, help_text="Partner status updates")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "dispatches"
        permissions = [
            ("propose_dispatch", "Propose a dispatch the rules did not make"),
            ("confirm_dispatch", "Confirm a dispatch to police or a partner (four eyes)"),
            ("cancel_dispatch", "Cancel a dispatch that has not gone"),
            ("acknowledge_dispatch", "Record that an office has a referral"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="dispatch_due_idx"),
            models.Index(fields=["item", "kind"], name="dispatch_item_idx"),
        ]

    def __str__(self) -> str:
        to = self.destination.code if self.destination is not None else self.address
        return f"{self.kind} #{self.id} of item {self.item_id} to {to}: {self.state}"


class InstanceKey(models.Model):
    """One of this instance's private keys (Ed25519 to sign, X25519 to decrypt). The
    newest of each use is current; retired keys still open messages for a while."""

    kid = models.CharField(max_length=100, unique=True)
    use = models.CharField(max_length=3, choices=[("sig", "signature"), ("enc", "encryption")])
    private_jwk = models.JSONField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.use} key {self.kid}"


class InboundEnvelope(models.Model):
    """An envelope a partner sent us, once: a report (stored as a report on the partner
    channel) or a status update about something we sent them."""

    sender = models.ForeignKey(Destination, related_name="inbound", on_delete=models.PROTECT)
    envelope_id = models.CharField(max_length=64)
    type = models.CharField(max_length=8)
    in_reply_to = models.CharField(max_length=64, blank=True)
    report = models.ForeignKey(
        Report, related_name="envelopes", null=True, blank=True, on_delete=models.PROTECT
    )
    reference = models.CharField(max_length=64, blank=True, help_text="What we answered")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender", "envelope_id"], name="envelope_once")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.envelope_id} from {self.sender_id}"


class SeenTransmission(models.Model):
    """A transmission id (jti) we accepted: the same one again is a replay."""

    jti = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.jti


class TakedownState(models.TextChoices):
    OPEN = "open", "online: notified, checked again"
    REMOVED = "removed", "removed"


class Takedown(models.Model):
    """Follow-up of one page after its host was notified: re-checked on a schedule until
    it is gone, re-noticed, escalated; how long removal took."""

    item = models.OneToOneField(Item, related_name="takedown", on_delete=models.CASCADE)
    host = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=2, blank=True)
    state = models.CharField(max_length=8, choices=TakedownState.choices)
    notices = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    first_notice_at = models.DateTimeField(null=True, blank=True)
    last_notice_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check = models.CharField(max_length=300, blank=True, help_text="What the check saw")
    checks = models.PositiveIntegerField(default=0)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_how = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"takedown of item {self.item_id}: {self.state}"

    @property
    def time_to_removal_s(self) -> float | None:
        start = self.first_notice_at or self.opened_at
        if self.removed_at is None or start is None:
            return None
        return (self.removed_at - start).total_seconds()
