"""System checks on operators' settings (run by `tipline check` and at every start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from tipline.harmonize.taxonomy import Theme


def retention_themes(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A theme misspelt in TIPLINE_RETENTION_EVIDENCE_DAYS would silently take the default."""
    known = {t.value for t in Theme} | {"default"}
    unknown = sorted(set(settings.RETENTION_EVIDENCE_DAYS) - known)
    if not unknown:
        return []
    return [
        Error(
            f"TIPLINE_RETENTION_EVIDENCE_DAYS names unknown theme(s): {', '.join(unknown)}",
            hint=f"themes are: {', '.join(sorted(known))}",
            id="tipline.E001",
        )
    ]
