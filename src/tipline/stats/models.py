"""Statistics' tables: summaries of the other stages' data, by day, kept up to date by a
periodic task so that a year of figures is a sum over a few hundred thousand small rows
instead of a read of millions of reports and items (docs/statistics.md)."""

from __future__ import annotations

from django.db import models


class DailyCount(models.Model):
    """How many of one thing a figure counts (its `key`: a channel, a country, an outcome)
    there were on one day for one theme. The day is the figure's own: the day a report was
    received, an item first reported, a dispatch created, a notice sent, a takedown's clock
    started (docs/statistics.md says which)."""

    day = models.DateField()
    # "" for reports not harmonized yet; "*" for all themes, for figures that do not add up
    # across themes (a network spans several).
    theme = models.CharField(max_length=16)
    figure = models.CharField(max_length=24)
    key = models.CharField(max_length=255, blank=True)
    n = models.PositiveIntegerField()

    class Meta:
        permissions = [("view_statistics", "See the statistics dashboard and reports")]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "theme", "figure", "key"], name="dailycount_once"
            )
        ]
        indexes = [
            # Covering: a period's sums are read from the index alone.
            models.Index(
                fields=["figure", "day", "theme", "key", "n"], name="dailycount_figure_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.theme} {self.figure}[{self.key}] = {self.n}"


class Duration(models.Model):
    """One stopped clock: how long an item took to be assessed or forwarded, or a page to
    be removed after its host was noticed, in whole seconds, filed on the day it started."""

    metric = models.CharField(max_length=8)  # assess | forward | removal
    day = models.DateField()
    theme = models.CharField(max_length=16)
    seconds = models.BigIntegerField()
    provider = models.CharField(max_length=255, blank=True, help_text="removal: who hosted it")

    class Meta:
        indexes = [
            # Covering: a short period's durations, or the providers' removals, are read
            # from the index alone.
            models.Index(
                fields=["metric", "day", "theme", "provider", "seconds"], name="duration_day_idx"
            ),
            # Covering, in order of duration: a quantile is the n-th entry of the period.
            models.Index(fields=["metric", "seconds", "day", "theme"], name="duration_rank_idx"),
            # The same within each hosting provider.
            models.Index(
                fields=["metric", "provider", "seconds", "day", "theme"],
                name="duration_provider_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.theme}: {self.seconds} s"


class Refresh(models.Model):
    """When the summaries were last brought up to date (a single row)."""

    as_of = models.DateTimeField(null=True, blank=True, help_text="Figures true at this time")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Days were cut in it")
    days = models.PositiveIntegerField(default=0, help_text="Days recomputed the last time")
    took_s = models.FloatField(default=0.0)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="A refresh was queued")
    running_since = models.DateTimeField(
        null=True, blank=True, help_text="A refresh is running (one at a time)"
    )

    def __str__(self) -> str:
        return f"summaries as of {self.as_of}"
