"""Harmonize's writes."""

from __future__ import annotations

from collections.abc import Sequence


def reports_harmonize(report_ids: Sequence[int]) -> None:
    """The harmonize step of the pipeline, run inside the runner's transaction.

    Thin for now: it records nothing of its own, and the runner moves the reports on.
    Issue #3 builds this stage (canonical URLs, one item per thing reported, a common taxonomy).
    """
