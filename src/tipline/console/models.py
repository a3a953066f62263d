"""The console's tables: who is working on which item."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tipline.harmonize.models import Item


class Claim(models.Model):
    """An analyst is assessing an item; others see it taken until the claim is released
    or lapses (`expires_at`), so two analysts do not assess the same item at once."""

    item = models.OneToOneField(Item, related_name="claim", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"item {self.item_id} claimed by {self.user_id} until {self.expires_at}"


class Preference(models.Model):
    """A staff member's own settings for the console."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="console_preference", on_delete=models.CASCADE
    )
    language = models.CharField(max_length=8, default="en")
    # Welfare: pictures blurred and in grayscale unless this person chooses otherwise.
    blur = models.BooleanField(default=True)
    grayscale = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class Exposure(models.Model):
    """How long a staff member looked at un-blurred media on one day (welfare: a daily
    cap warns, then hides media)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    day = models.DateField()
    seconds = models.FloatField(default=0.0)
    unblurs = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="exposure_once")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}: {self.seconds:.0f} s"


class Note(models.Model):
    """An analyst's note on an item, kept with who wrote it and when."""

    item = models.ForeignKey(Item, related_name="notes", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"note on item {self.item_id} by {self.user_id}"
