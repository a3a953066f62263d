"""`tipline bench console` on a small generated year: it fills, signs an analyst in, times
the queue and item pages, and says so in one JSON object."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tipline.harmonize.models import Item
from tipline.orient.models import Routing

pytestmark = pytest.mark.django_db


def test_the_console_bench_prints_its_figures() -> None:
    out = io.StringIO()
    call_command("bench", "console", "--items", "1500", "--requests", "14", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["benchmark"] == "console"
    assert result["items"] == 1500 == Item.objects.count()
    assert result["requests"] == 14
    for key in ("fill_s", "queue_p50_ms", "queue_p95_ms", "item_p50_ms", "item_p95_ms"):
        assert isinstance(result[key], int | float) and result[key] > 0, key
    assert result["queue_p50_ms"] <= result["queue_p95_ms"]
    assert result["item_p50_ms"] <= result["item_p95_ms"]
    assert 0 < result["waiting"] < 1500
    assert result["waiting"] == Item.objects.filter(needs_assessment=True).count()
    # Every filter of the queue and every kind of item page was timed.
    assert set(result["queue_by_filter"]) == {
        "all",
        "theme",
        "priority",
        "country",
        "channel",
        "network",
        "mine",
    }
    assert {"random", "waiting", "most_reports", "network_hub"} <= set(result["item_by_kind"])
    assert Routing.objects.filter(is_current=True).count() == 1500
