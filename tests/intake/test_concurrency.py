"""Idempotency under concurrency: the same external_id sent at once yields one report."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tipline.intake.models import Report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPORT = {"external_id": "race-1", "urls": ["https://ads.example/race"], "category": "sex ad"}


def post_at_once(url: str, token: str, bodies: list[tuple[str, bytes]]) -> list[httpx.Response]:
    """POST every body at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(bodies))

    def send(path_body: tuple[str, bytes]) -> httpx.Response:
        path, body = path_body
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(
                f"{url}{path}",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_concurrent_resubmissions_make_one_report(live_server, provider) -> None:
    body = json.dumps(REPORT).encode()
    responses = post_at_once(live_server.url, provider[1], [("/api/v1/reports", body)] * 12)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 11 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Report.objects.filter(external_id="race-1").count() == 1


def test_concurrent_bulk_bodies_sharing_external_ids_make_one_report_each(
    live_server, provider
) -> None:
    entries = [
        {**REPORT, "external_id": f"bulk-{n}", "urls": [f"https://ads.example/{n}"]}
        for n in range(200)
    ]
    # Four bodies, each overlapping the next by half.
    bodies = [json.dumps(entries[start : start + 100]).encode() for start in (0, 50, 100, 100)]
    responses = post_at_once(
        live_server.url, provider[1], [("/api/v1/reports/bulk", b) for b in bodies]
    )
    assert all(r.status_code == 202 for r in responses), [r.text for r in responses]
    ids: dict[str, set[int]] = {}
    for r in responses:
        body = r.json()
        assert body["rejected"] == []
        for accepted in body["accepted"]:
            ids.setdefault(accepted["external_id"], set()).add(accepted["id"])
    assert len(ids) == 200 and all(len(v) == 1 for v in ids.values())
    assert Report.objects.count() == 200
