"""Analyze's background entry points: capture pages, look up hosts, in batches. They own
their retries: pages that could not be reached are tried again on a schedule (sites come
and go)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from . import jobs

log = logging.getLogger(__name__)


@task(queue_name="outside")
def capture_items(item_ids: list[int], attempt: int) -> None:
    failed = []
    for item_id in item_ids:
        try:
            if jobs.capture_item_run(item_id=item_id, attempt=attempt).error:
                failed.append(item_id)
        except Exception as exc:  # e.g. the evidence store is full: tried again later
            log.exception("capture of item %s failed", item_id)
            jobs.capture_failure_record(item_id=item_id, attempt=attempt, error=exc)
            failed.append(item_id)
    schedule = settings.CAPTURE_RETRY_S
    if failed and settings.ANALYZE_NETWORK and attempt <= len(schedule):
        later = timezone.now() + timedelta(seconds=schedule[attempt - 1])
        capture_items.using(run_after=later).enqueue(item_ids=failed, attempt=attempt + 1)


@task(queue_name="outside")
def hosts_look_up(hosts: list[str]) -> None:
    for host in hosts:
        jobs.host_look_up_run(host=host)
