"""Analyze's reads, shaped for their callers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .models import Analysis, Observable


def report_facts(report_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What analysis found in each report, for the report's API view: its observables
    (each value once), risk and priority."""
    found: dict[int, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for rid, kind, value in (
        Observable.objects.filter(report_id__in=report_ids)
        .order_by("id")
        .values_list("report_id", "type", "value")
    ):
        found[rid].setdefault((kind, value), {"type": kind, "value": value})
    facts: dict[int, dict[str, Any]] = {
        rid: {"observables": list(values.values())} for rid, values in found.items()
    }
    for rid, risk, priority in Analysis.objects.filter(report_id__in=report_ids).values_list(
        "report_id", "risk", "priority"
    ):
        facts.setdefault(rid, {}).update({"risk": risk, "priority": priority})
    return facts
