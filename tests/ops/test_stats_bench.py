"""`tipline bench stats` on a small generated year: it prints the dashboard's time."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_stats_benchmark_prints_the_dashboards_time() -> None:
    out = io.StringIO()
    call_command("bench", "stats", "--items", "1500", "--repeat", "3", stdout=out)
    result = json.loads(out.getvalue())
    assert result["benchmark"] == "stats" and result["items"] == 1500
    assert 0 < result["dashboard_s"] <= result["dashboard_max_s"]
    assert result["refresh_s"] > 0 and result["repeat"] == 3
