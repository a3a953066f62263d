"""The pipeline's shape: its states in order, and the step each later stage registers.

Intake owns reports and runs the pipeline, but may not import later stages; each later
stage registers its step here from its AppConfig.ready(), so dependencies point down only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RECEIVED = "received"
FAILED = "failed"


@dataclass(frozen=True)
class Stage:
    name: str
    from_state: str
    to_state: str


STAGES: tuple[Stage, ...] = (
    Stage("harmonize", RECEIVED, "harmonized"),
    Stage("analyze", "harmonized", "analyzed"),
    Stage("crossref", "analyzed", "crossreferenced"),
    Stage("orient", "crossreferenced", "oriented"),
)
FINAL = STAGES[-1].to_state
TERMINAL_STATES = frozenset({FINAL, FAILED})
ACTIVE_STATES = tuple(s.from_state for s in STAGES)

# A step takes report ids that are all in the stage's from_state and does the stage's
# work for them inside the caller's transaction. It must be idempotent.
Step = Callable[[Sequence[int]], None]
# A stage may split off work that reads only what no stage changes (a report's own text
# and files) and writes nothing that matters if the stage is not done: `prepare` runs it
# before the transaction, so that on SQLite, where one writer holds the database at a
# time, a second worker computes while the first writes. Its result is handed to the
# stage's step, which must work for any report ids, prepared or not.
Prepare = Callable[[Sequence[int]], Any]
PreparedStep = Callable[[Sequence[int], Any], None]
# Facts a stage contributes to a report's API view, keyed by report id.
FactsProvider = Callable[[Sequence[int]], Mapping[int, Mapping[str, Any]]]

# Queues processing of report ids after delay_s seconds; returns the task's id.
Enqueue = Callable[[list[int], float], str]

_steps: dict[str, PreparedStep] = {}
_prepares: dict[str, Prepare] = {}
_facts: list[FactsProvider] = []
_enqueue: list[Enqueue] = []


def set_enqueue(fn: Enqueue) -> None:
    """Intake registers how processing is queued (its task), so services need not import it."""
    _enqueue[:] = [fn]


def enqueue(report_ids: list[int], delay_s: float = 0.0) -> str:
    if not _enqueue:
        raise LookupError("no pipeline queue registered")
    return _enqueue[0](report_ids, delay_s)


def register_step(stage: str, step: Step) -> None:
    _register(stage, lambda report_ids, _prepared: step(report_ids), None)


def register_prepared_step(stage: str, prepare: Prepare, step: PreparedStep) -> None:
    """A step in two phases: `prepare(ids)` outside the transaction, then
    `step(ids, prepared)` inside it (see Prepare)."""
    _register(stage, step, prepare)


def _register(stage: str, step: PreparedStep, prepare: Prepare | None) -> None:
    if stage not in {s.name for s in STAGES}:
        raise ValueError(f"unknown stage {stage!r}")
    _steps[stage] = step
    if prepare is None:
        _prepares.pop(stage, None)
    else:
        _prepares[stage] = prepare


def step_for(stage: str) -> PreparedStep:
    try:
        return _steps[stage]
    except KeyError:
        raise LookupError(f"no step registered for stage {stage!r}") from None


def prepare_for(stage: str) -> Prepare | None:
    return _prepares.get(stage)


def register_facts(provider: FactsProvider) -> None:
    _facts.append(provider)


def facts_for(report_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    merged: dict[int, dict[str, Any]] = {rid: {} for rid in report_ids}
    for provider in _facts:
        for rid, facts in provider(report_ids).items():
            merged.setdefault(rid, {}).update(facts)
    return merged


def retry_delay(attempt: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff: base, 2 x base, 4 x base … capped at max_s (attempt counts from 1)."""
    return min(max_s, base_s * (2 ** max(0, attempt - 1)))
