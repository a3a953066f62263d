"""Cross-reference's tables: which values each item carries (the correlation index), the
links they make, the networks links form, and the values that must not link."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tipline.common.choices import enum_choices
from tipline.harmonize.models import Item, MediaFile

from .core import HOSTED_ON, LinkKind

VALUE_KIND_CHOICES = [
    (k.value, k.value)
    for k in (
        LinkKind.SHARED_PHONE,
        LinkKind.SHARED_EMAIL,
        LinkKind.SHARED_HANDLE,
        LinkKind.SHARED_WALLET,
        LinkKind.SHARED_DOMAIN,
        LinkKind.SAME_IMAGE,
    )
] + [(HOSTED_ON, HOSTED_ON)]


class Trace(models.Model):
    """An item carries a value — a phone, e-mail, handle, wallet, domain, or a picture's
    SHA-256 — found in it or in the reports pointing at it. The correlation index."""

    item = models.ForeignKey(Item, related_name="traces", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=VALUE_KIND_CHOICES)
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value", "item"], name="trace_once"),
        ]
        indexes = [models.Index(fields=["item"], name="trace_item_idx")]

    def __str__(self) -> str:
        return f"item {self.item_id} carries {self.kind}:{self.value}"


class CommonValue(models.Model):
    """A value carried by more items than the over-correlation guard allows: it links
    nothing, and analysts confirm that it is noise or release it to link again."""

    class Decision(models.TextChoices):
        PENDING = "", "to review"
        CONFIRMED = "confirmed", "confirmed common: never links"
        RELEASED = "released", "released: links again"

    kind = models.CharField(max_length=16, choices=VALUE_KIND_CHOICES)
    value = models.CharField(max_length=255)
    item_count = models.PositiveIntegerField(help_text="Items carrying it when it was listed")
    listed_at = models.DateTimeField()
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="commonvalue_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value} ({self.item_count} items)"


class AllowedValue(models.Model):
    """A value that must never link items: the hotline's own contacts, big platforms'
    domains, webmail domains, URL shorteners."""

    kind = models.CharField(max_length=16, choices=VALUE_KIND_CHOICES)
    value = models.CharField(max_length=255)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="allowedvalue_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Link(models.Model):
    """Two items are related, for one reason: the kind, the value they share (or the two
    pictures or texts compared) and the evidence. A link withdrawn or cut is kept, so it
    stays explainable and is never re-created."""

    class State(models.TextChoices):
        ACTIVE = "active", "active"
        WITHDRAWN = "withdrawn", "withdrawn (the value became common or allowed)"
        CUT = "cut", "cut by an analyst"

    item_a = models.ForeignKey(Item, related_name="+", on_delete=models.CASCADE)
    item_b = models.ForeignKey(Item, related_name="+", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=enum_choices(LinkKind))
    value = models.CharField(max_length=255, help_text="The shared value, or what was compared")
    evidence = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=255, blank=True, help_text="Why it was cut or withdrawn")

    class Meta:
        permissions = [
            ("cut_link", "Cut a wrong link"),
            ("decide_commonvalue", "Confirm or release a common value"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["item_a", "item_b", "kind", "value"], name="link_once"),
            models.CheckConstraint(condition=Q(item_a__lt=models.F("item_b")), name="link_a_lt_b"),
        ]
        indexes = [
            models.Index(fields=["item_b"], name="link_item_b_idx"),
            models.Index(fields=["kind", "value"], name="link_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_a_id} — {self.item_b_id} ({self.kind} {self.value})"


class Network(models.Model):
    """Items joined by active links. A network merged into another keeps its row, pointing
    at the one that absorbed it, so old references still lead somewhere."""

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    item_count = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, related_name="absorbed", on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return f"network {self.pk} ({self.item_count} items)"


class Membership(models.Model):
    """An item belongs to a network (an item without links belongs to none)."""

    item = models.OneToOneField(
        Item, primary_key=True, related_name="membership", on_delete=models.CASCADE
    )
    network = models.ForeignKey(Network, related_name="memberships", on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"item {self.item_id} in network {self.network_id}"


class NetworkEvent(models.Model):
    """What happened to a network — created, merged with another, split — and the link
    that caused it."""

    class Kind(models.TextChoices):
        CREATED = "created"
        MERGED = "merged"
        SPLIT = "split"

    network = models.ForeignKey(Network, related_name="events", on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    other = models.ForeignKey(
        Network, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    link = models.ForeignKey(
        Link, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    detail = models.JSONField(default=dict)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"network {self.network_id} {self.kind}"


class TextPrint(models.Model):
    """An ad text an item carries, as compared: kept to check candidates exactly."""

    item = models.ForeignKey(Item, related_name="text_prints", on_delete=models.CASCADE)
    sha256 = models.CharField(max_length=64)
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "sha256"], name="textprint_once")]

    def __str__(self) -> str:
        return f"text of item {self.item_id}"


class TextBand(models.Model):
    """One LSH band of a text's MinHash: texts sharing a band key are candidates."""

    key = models.BigIntegerField()
    text = models.ForeignKey(TextPrint, related_name="bands", on_delete=models.CASCADE)

    class Meta:
        # Covering: candidates are read from the index alone, without visiting the table.
        indexes = [models.Index(fields=["key", "text"], name="textband_key_text_idx")]

    def __str__(self) -> str:
        return f"band {self.key} of text {self.text_id}"


class PictureNeighbour(models.Model):
    """Two different pictures within PDQ distance of each other (a < b)."""

    media_a = models.ForeignKey(MediaFile, related_name="+", on_delete=models.CASCADE)
    media_b = models.ForeignKey(MediaFile, related_name="+", on_delete=models.CASCADE)
    distance = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["media_a", "media_b"], name="pictureneighbour_once")
        ]
        indexes = [models.Index(fields=["media_b"], name="pictureneighbour_b_idx")]

    def __str__(self) -> str:
        return f"{self.media_a_id} ~ {self.media_b_id} ({self.distance})"


class PictureSeen(models.Model):
    """Cross-reference searched this picture's neighbours once."""

    media = models.OneToOneField(
        MediaFile, primary_key=True, related_name="+", on_delete=models.CASCADE
    )

    def __str__(self) -> str:
        return f"picture {self.media_id} seen"
