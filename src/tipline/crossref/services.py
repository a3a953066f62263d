"""Cross-reference's writes."""

from __future__ import annotations

from collections.abc import Sequence


def reports_crossref(report_ids: Sequence[int]) -> None:
    """The crossref step of the pipeline, run inside the runner's transaction.

    Thin for now: it records nothing of its own, and the runner moves the reports on.
    Issue #5 builds this stage (links between items that share observables or content, networks).
    """
