"""Analyze's writes."""

from __future__ import annotations

from collections.abc import Sequence


def reports_analyze(report_ids: Sequence[int]) -> None:
    """The analyze step of the pipeline, run inside the runner's transaction.

    Thin for now: it records nothing of its own, and the runner moves the reports on.
    Issue #4 builds this stage (observables, indicators, hash banks, evidence capture, hosting).
    """
