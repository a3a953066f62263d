"""Operations' background entry points: the daily retention run."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from . import retention, services

RETENTION_JOB = "retention"


@task()
def retention_run() -> dict[str, Any]:
    """Apply retention (queued once a day by the first worker to claim the day)."""
    try:
        outcome = retention.retention_apply()
    except Exception as exc:
        services.daily_run_finish(
            name=RETENTION_JOB, outcome={"error": f"{type(exc).__name__}: {exc}"[:500]}
        )
        raise
    done = {
        "reports_anonymized": outcome.reports_anonymized,
        "files_deleted": outcome.files_deleted,
    }
    services.daily_run_finish(name=RETENTION_JOB, outcome=done)
    return done
