"""Harmonize's tables: items (the unique things reported), links from reports to items,
what was made of each report, media fingerprints, and providers' own category labels."""

from __future__ import annotations

from django.db import models

from tipline.common.choices import enum_choices
from tipline.intake.models import Provider, Report

from .core import Effect, ItemKind
from .taxonomy import AgeCategory, Classification, ContentType, SiteType, Theme


class Item(models.Model):
    """One thing reported — a page (canonical URL), a media file (its content) or a text
    without URL — however many reports point at it."""

    kind = models.CharField(max_length=8, choices=enum_choices(ItemKind))
    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of kind and identity")
    url = models.TextField(blank=True, help_text="Canonical URL, tracking parameters removed")
    host = models.CharField(max_length=255, blank=True)
    host_kind = models.CharField(max_length=8, blank=True)
    domain = models.CharField(max_length=255, blank=True, db_index=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    text = models.TextField(blank=True)

    theme = models.CharField(max_length=16, choices=enum_choices(Theme), default=Theme.OTHER)
    content_type = models.CharField(max_length=16, choices=enum_choices(ContentType), blank=True)
    site_type = models.CharField(max_length=16, choices=enum_choices(SiteType), blank=True)
    classification = models.CharField(
        max_length=16, choices=enum_choices(Classification), default=Classification.UNASSESSED
    )
    age_category = models.CharField(
        max_length=16,
        choices=enum_choices(AgeCategory),
        blank=True,
        db_default="",  # rows are inserted in bulk with explicit column lists
        help_text="CSAM only",
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    needs_assessment = models.BooleanField(default=True)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        related_name="duplicates",
        on_delete=models.SET_NULL,
        help_text="An analyst found it is the same content as this item, and closed it",
    )

    report_count = models.PositiveIntegerField(default=0)
    first_reported_at = models.DateTimeField()
    last_reported_at = models.DateTimeField()
    channels = models.JSONField(default=list)
    reporter_countries = models.JSONField(default=list)
    # SHA-256 of the files and texts its reports brought: a report bringing anything else
    # is new information and reopens an assessed item.
    evidence = models.JSONField(default=list)

    class Meta:
        indexes = [
            # The analysts' queue: waiting items oldest first, with the theme and channels
            # it filters on, read from the index alone (the id too, for PostgreSQL).
            models.Index(
                fields=["needs_assessment", "first_reported_at", "id", "theme", "channels"],
                name="item_waiting_idx",
            ),
            models.Index(fields=["host"], name="item_host_idx"),
        ]

    def __str__(self) -> str:
        return self.url or self.sha256 or self.text[:60]


class ReportItem(models.Model):
    """A report points at an item, and what that meant for the item's assessment."""

    report = models.ForeignKey(Report, related_name="report_items", on_delete=models.CASCADE)
    item = models.ForeignKey(Item, related_name="report_links", on_delete=models.CASCADE)
    as_reported = models.TextField(blank=True, help_text="The URL as written, the file name…")
    effect = models.CharField(
        max_length=16,
        choices=enum_choices(Effect),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "item"], name="reportitem_once")]

    def __str__(self) -> str:
        return f"report {self.report_id} → item {self.item_id}"

    @property
    def inherited_assessment(self) -> bool:
        """The item was assessed already and the report adds nothing: no analyst work."""
        return self.effect == Effect.INHERITED


class Harmonization(models.Model):
    """What Harmonize made of one report: its theme, its language, what could not be read."""

    report = models.OneToOneField(
        Report, primary_key=True, related_name="harmonization", on_delete=models.CASCADE
    )
    theme = models.CharField(max_length=16, choices=enum_choices(Theme))
    classification = models.CharField(max_length=16, blank=True)
    content_type = models.CharField(max_length=16, blank=True)
    category_source = models.CharField(max_length=16)
    language = models.CharField(max_length=8, blank=True)
    language_confidence = models.FloatField(default=0.0)
    problems = models.JSONField(default=list, help_text="[{field, message}] not harmonized")
    harmonized_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"harmonization of report {self.report_id}"


class MediaFile(models.Model):
    """A media file's content, fingerprinted once however often it is reported."""

    sha256 = models.CharField(max_length=64, unique=True)
    md5 = models.CharField(max_length=32, db_index=True)
    sha1 = models.CharField(max_length=40, db_index=True)
    pdq = models.CharField(max_length=64, blank=True, db_index=True)
    pdq_quality = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    format = models.CharField(max_length=16, blank=True)
    thumbnail_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Blurred grayscale copy in the evidence store"
    )
    problem = models.TextField(blank=True, help_text="Why it could not be fingerprinted")

    def __str__(self) -> str:
        return self.sha256


class ProviderLabel(models.Model):
    """How one provider's own category label maps onto the common theme (wins over the
    built-in tables)."""

    provider = models.ForeignKey(Provider, related_name="labels", on_delete=models.CASCADE)
    label = models.CharField(max_length=200)
    theme = models.CharField(max_length=16, choices=enum_choices(Theme))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "label"], name="providerlabel_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.label} → {self.theme}"
