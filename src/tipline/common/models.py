"""Tables every stage shares: the audit log, request counts for rate limits."""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditRecord(models.Model):
    """One thing a person did or saw (viewed an item, un-blurred a picture, assessed,
    confirmed a dispatch, changed a setting). Append-only, chained by hash: each row
    holds the SHA-256 of the previous row, so an edited or deleted row breaks the chain
    (`tipline audit verify`)."""

    seq = models.PositiveBigIntegerField(unique=True, help_text="1, 2, 3 … without gaps")
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, db_index=True, help_text="username, or system")
    action = models.CharField(max_length=64, db_index=True, help_text="item.assess, rule.change…")
    target = models.CharField(max_length=120, blank=True, db_index=True, help_text="item:12")
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit records are append-only: a record is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("audit records are append-only: a record is never deleted")


class RateCount(models.Model):
    """How many requests one client made to one rate-limited page in one window. The
    client is a keyed hash of its address, never the address; rows of windows that have
    ended are deleted as new windows start (`tipline.common.ratelimit`)."""

    scope = models.CharField(max_length=32, help_text="what is counted, e.g. public_report")
    client = models.CharField(max_length=32, help_text="HMAC of the client's address")
    period_start = models.BigIntegerField(help_text="the window: Unix time // period")
    expires = models.BigIntegerField(db_index=True, help_text="Unix time the window ends")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "client", "period_start"], name="ratecount_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.client[:8]}… {self.count}"
