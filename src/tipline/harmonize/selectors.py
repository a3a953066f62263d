"""Harmonize's reads, shaped for their callers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .models import ReportItem


def report_facts(report_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The items each report points at, for the report's API view."""
    item_ids: dict[int, list[int]] = defaultdict(list)
    for rid, iid in (
        ReportItem.objects.filter(report_id__in=report_ids)
        .order_by("item_id")
        .values_list("report_id", "item_id")
    ):
        item_ids[rid].append(iid)
    return {rid: {"item_ids": ids} for rid, ids in item_ids.items()}
