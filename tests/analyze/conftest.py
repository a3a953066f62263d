"""Analyze tests: the observables corpus figures, shown at the end of the run."""

from __future__ import annotations

from typing import Any

import pytest

# What the corpus test measured: precision, recall, snippets, pairs, and by_type, which
# maps each type to (precision, recall, expected count).
CORPUS_FIGURES = pytest.StashKey[dict[str, Any]]()


@pytest.fixture
def corpus_figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A place for the corpus test to leave its figures for the terminal summary."""
    return request.config.stash.setdefault(CORPUS_FIGURES, {})


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    figures = config.stash.get(CORPUS_FIGURES, None)
    if not figures:
        return
    terminalreporter.write_line(
        f"observables corpus: precision {figures['precision']:.3f} "
        f"recall {figures['recall']:.3f} "
        f"(n={figures['snippets']} snippets, {figures['pairs']} expected pairs)"
    )
    for kind, (precision, recall, expected) in sorted(figures["by_type"].items()):
        terminalreporter.write_line(
            f"  {kind:<7} precision {precision:.3f} recall {recall:.3f} (expected {expected})"
        )
