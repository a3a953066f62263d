"""Intake's reads, shaped for their callers."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline.common import pipeline
from tipline.common.codes import normalize_receipt

from .choices import ReportState
from .models import Provider, Report, StaffToken
from .services import token_hash


def provider_by_token(token: str) -> Provider | None:
    return Provider.objects.filter(token_hash=token_hash(token), is_active=True).first()


def staff_by_token(token: str, *, scope: str) -> StaffToken | None:
    """The staff token `token`, with its user, if it may be used now for `scope`."""
    found = (
        StaffToken.objects.select_related("user")
        .filter(
            token_hash=token_hash(token),
            is_active=True,
            user__is_active=True,
            user__is_staff=True,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )
    # The scope is checked here, not in SQL: SQLite has no lookup for "list contains".
    if found is None or scope not in found.scopes:
        return None
    return found


def report_for_provider(*, provider: Provider, report_id: int) -> dict[str, Any] | None:
    """What a provider may read of a report it sent: its processing, not others' reports."""
    report = (
        Report.objects.filter(id=report_id, provider=provider)
        .only("id", "external_id", "state", "received_at", "receipt", "last_error", "failed_stage")
        .first()
    )
    if report is None:
        return None
    facts = pipeline.facts_for([report.pk])[report.pk]
    return {
        "id": report.pk,
        "external_id": report.external_id,
        "receipt": report.receipt,
        "state": report.state,
        "received_at": report.received_at,
        "failed_stage": report.failed_stage or None,
        "item_ids": facts.get("item_ids", []),
        "network_ids": facts.get("network_ids", []),
        "observables": facts.get("observables", []),
        "risk": facts.get("risk"),
        "priority": facts.get("priority"),
        "routing": facts.get("routing", []),
    }


def report_state_by_receipt(*, code: str) -> ReportState | None:
    """The state of the report with this receipt code: the only thing a code reveals."""
    receipt = normalize_receipt(code)
    if receipt is None:
        return None
    state = Report.objects.filter(receipt=receipt).values_list("state", flat=True).first()
    return ReportState(state) if state else None


def pipeline_health() -> dict[str, Any]:
    """Queue depth and the age of the oldest task waiting, for /healthz and operators."""
    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    return {
        "depth": ready.count(),
        "running": DBTaskResult.objects.running().count(),
        "oldest_pending_age_s": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        "reports_unfinished": Report.objects.filter(state__in=pipeline.ACTIVE_STATES).count(),
        "reports_failed": Report.objects.filter(state=ReportState.FAILED).count(),
    }
