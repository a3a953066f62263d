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
