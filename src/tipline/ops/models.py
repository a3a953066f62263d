"""Operations' tables."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A pipeline worker process that is alive, or was until `last_seen`."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class DailyRun(models.Model):
    """A job the workers run once a day (retention): the UTC day it was last claimed for,
    by which worker, and what it did. Claiming is one conditional UPDATE of this row, so
    however many workers look, one of them runs it."""

    name = models.CharField(max_length=64, unique=True)
    day = models.DateField(null=True, blank=True)
    worker_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True, help_text="Counts, or the error")

    def __str__(self) -> str:
        return f"{self.name} (last for {self.day})"
