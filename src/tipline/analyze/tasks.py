"""Analyze's background entry points: capture a page, look up a host. They own their
retries: an unreachable page is tried again on a schedule (sites come and go)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from . import jobs


@task()
def capture_item(item_id: int, attempt: int) -> None:
    capture = jobs.capture_item_run(item_id=item_id, attempt=attempt)
    schedule = settings.CAPTURE_RETRY_S
    if capture.error and settings.ANALYZE_NETWORK and attempt <= len(schedule):
        later = timezone.now() + timedelta(seconds=schedule[attempt - 1])
        capture_item.using(run_after=later).enqueue(item_id=item_id, attempt=attempt + 1)


@task()
def host_look_up(host: str) -> None:
    jobs.host_look_up_run(host=host)
