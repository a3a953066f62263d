"""Analyze's tables: what was found in each report, banks of known content and their
matches, captures of reported pages, and where content is hosted."""

from __future__ import annotations

from django.db import models

from tipline.common.choices import enum_choices
from tipline.harmonize.models import Item
from tipline.harmonize.taxonomy import Classification, Theme
from tipline.intake.models import Report


class Analysis(models.Model):
    """What Analyze made of one report: its risk and priority, and whether every step ran."""

    report = models.OneToOneField(
        Report, primary_key=True, related_name="analysis", on_delete=models.CASCADE
    )
    risk = models.PositiveSmallIntegerField(default=0)
    priority = models.CharField(max_length=2, default="P4")
    partial = models.BooleanField(default=False, help_text="A step failed; see problems")
    problems = models.JSONField(default=list, help_text="[{step, reason}]")
    analyzed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"analysis of report {self.report_id}: {self.priority}, risk {self.risk}"


class Observable(models.Model):
    """A phone, e-mail, URL, domain, IP, handle or wallet found in a report, with where."""

    report = models.ForeignKey(Report, related_name="observables", on_delete=models.CASCADE)
    field = models.CharField(max_length=16, help_text="excerpt, description or urls")
    type = models.CharField(max_length=8)
    value = models.CharField(max_length=2048)  # a URL can be long; compared whole
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["type", "value"], name="observable_value_idx")]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class IndicatorHit(models.Model):
    """An indicator found in a report's text: which words, and how much it weighs."""

    report = models.ForeignKey(Report, related_name="indicator_hits", on_delete=models.CASCADE)
    field = models.CharField(max_length=16)
    code = models.CharField(max_length=64)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    weight = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"{self.code} in report {self.report_id}"


class HashBank(models.Model):
    """A bank of known content: hashes from one source, with what a match means."""

    name = models.CharField(max_length=200, unique=True)
    source = models.CharField(max_length=200, blank=True)
    theme = models.CharField(max_length=16, choices=enum_choices(Theme))
    classification = models.CharField(
        max_length=16,
        choices=enum_choices(Classification),
        default=Classification.UNASSESSED,
        help_text="Proposed for items that match",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class BankEntry(models.Model):
    """One hash of known content; disabled alone when it proves a false positive."""

    bank = models.ForeignKey(HashBank, related_name="entries", on_delete=models.CASCADE)
    kind = models.CharField(
        max_length=8, choices=[("md5", "MD5"), ("sha256", "SHA-256"), ("pdq", "PDQ")]
    )
    value = models.CharField(max_length=64)
    label = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank", "kind", "value"], name="bankentry_once")
        ]
        indexes = [models.Index(fields=["kind", "value"], name="bankentry_value_idx")]
        verbose_name_plural = "bank entries"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class BankMatch(models.Model):
    """An item's media matched a bank entry (distance 0 for exact hashes)."""

    item = models.ForeignKey(Item, related_name="bank_matches", on_delete=models.CASCADE)
    entry = models.ForeignKey(BankEntry, related_name="matches", on_delete=models.CASCADE)
    distance = models.PositiveSmallIntegerField()
    matched_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "entry"], name="bankmatch_once")]
        verbose_name_plural = "bank matches"

    def __str__(self) -> str:
        return f"item {self.item_id} ~ {self.entry}"


class ItemAnalysis(models.Model):
    """What the machine proposes for an item: known content, theme, classification."""

    item = models.OneToOneField(
        Item, primary_key=True, related_name="analysis", on_delete=models.CASCADE
    )
    known_content = models.BooleanField(default=False)
    proposed_theme = models.CharField(max_length=16, blank=True)
    proposed_classification = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"analysis of item {self.item_id}"


class Capture(models.Model):
    """One fetch of a reported page: what came back, from where, when (UTC)."""

    item = models.ForeignKey(Item, related_name="captures", on_delete=models.CASCADE)
    requested_url = models.TextField()
    final_url = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    content_type = models.CharField(max_length=200, blank=True)
    body_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Body in the evidence store"
    )
    redirects = models.JSONField(default=list)
    addresses = models.JSONField(default=list)
    error = models.TextField(blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"capture of item {self.item_id} at {self.fetched_at:%Y-%m-%d %H:%M}"


class HostingLookup(models.Model):
    """Where a host's content was served from at one moment, and what changed since."""

    host = models.CharField(max_length=255, db_index=True)
    addresses = models.JSONField(default=list)
    country = models.CharField(max_length=2, blank=True)
    countries = models.JSONField(default=list)
    asn = models.PositiveIntegerField(null=True, blank=True)
    as_org = models.CharField(max_length=255, blank=True)
    abuse_email = models.CharField(max_length=254, blank=True)
    sources = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    changes = models.JSONField(default=list, help_text="What moved since the previous lookup")
    looked_up_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.host} in {self.country or '?'} at {self.looked_up_at:%Y-%m-%d %H:%M}"


class AbuseContactOverride(models.Model):
    """An abuse contact entered by hand for a registrable domain or an ASN ("AS64500");
    it wins over what RDAP says."""

    key = models.CharField(max_length=255, unique=True, help_text="example.co.uk or AS64500")
    email = models.EmailField()
    note = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.key} → {self.email}"
