"""Orient's writes."""

from __future__ import annotations

from collections.abc import Sequence


def reports_orient(report_ids: Sequence[int]) -> None:
    """The orient step of the pipeline, run inside the runner's transaction.

    Thin for now: it records nothing of its own, and the runner moves the reports on.
    Issue #6 builds this stage (routing to offices, partner hotlines and hosts; delivery;
    takedown follow-up).
    """
