"""`tipline bench console`: the analysts' pages over a year of generated work.

Setup (not timed, reported as `fill_s`) writes the data set with `tipline.ops.scale.fill`,
then signs an analyst in with the test client's `force_login`, two-factor off
(`REQUIRE_2FA=False`: the sign-in is not what is measured), and gives them a few claims.
Then each request is timed with `time.perf_counter()` around `Client.get`, in this
process, through the whole middleware, view, selectors and template: the server's time
without the network. Every answer must be 200.

- Queue: `/console/` unfiltered and filtered by theme, priority, hosting country,
  channel, network and "claimed by me", taken in turn (the page has no offset).
- Items: `/console/items/<id>/` of items drawn at random from all of them, the newest
  waiting ones, those with the most reports, the most-linked ones (a network's first
  item) and networks' members, taken in turn.

`--requests R` timed requests of the queue and R of item pages, after a warm-up.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings

from tipline.console import roles
from tipline.console import services as console
from tipline.crossref.models import Link, Membership
from tipline.harmonize.models import Item

from . import scale

WARM_UP = 3  # untimed requests of each kind first


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least `share` of them reach."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _item_kinds(rng: random.Random, count: int) -> dict[str, list[int]]:
    """Item ids to open, by what makes them interesting."""
    last = Item.objects.order_by("-id").values_list("id", flat=True).first() or 0
    first = Item.objects.order_by("id").values_list("id", flat=True).first() or 0
    hubs = (
        Link.objects.values("item_a")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("item_a", flat=True)[:count]
    )
    members = list(Membership.objects.order_by("?").values_list("item_id", flat=True)[:count])
    return {
        "random": [rng.randint(first, last) for _ in range(count)],
        "waiting": list(
            Item.objects.filter(needs_assessment=True)
            .order_by("-first_reported_at")
            .values_list("id", flat=True)[:count]
        ),
        "most_reports": list(
            Item.objects.order_by("-report_count").values_list("id", flat=True)[:count]
        ),
        "network_hub": list(hubs),
        "network_member": members,
    }


def _timed(client: Client, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
    return times


def _figures(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
    }


def run(*, items: int, seed: int, requests: int, waiting_share: float) -> dict[str, Any]:
    # Signed in with force_login, so no second factor; claims outlive the run.
    with override_settings(REQUIRE_2FA=False, CONSOLE_CLAIM_S=24 * 3600.0):
        return _run(items=items, seed=seed, requests=requests, waiting_share=waiting_share)


def _run(*, items: int, seed: int, requests: int, waiting_share: float) -> dict[str, Any]:
    filled = scale.fill(items=items, seed=seed, waiting_share=waiting_share)
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load (VACUUM: not inside a test's transaction).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    return {
        "items": items,
        "reports": filled.get("reports", 0),
        "fill_s": filled["seconds"],
        "filled": {k: v for k, v in filled.items() if k != "seconds"},
        **measure(seed=seed, requests=requests),
    }


def measure(*, seed: int, requests: int) -> dict[str, Any]:
    """The timed part, on whatever the database holds (a filled one)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    analyst, _ = User.objects.get_or_create(username="bench-analyst", defaults={"is_staff": True})
    analyst.groups.add(Group.objects.get(name=roles.ANALYST))
    for item_id in Item.objects.filter(needs_assessment=True).values_list("id", flat=True)[:20]:
        console.item_claim(item_id=item_id, user=analyst)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(analyst)

    network = (
        Membership.objects.values("network_id")
        .annotate(n=Count("item_id"))
        .order_by("-n")
        .values_list("network_id", flat=True)
        .first()
    )
    queue_paths = {
        "all": "/console/",
        "theme": "/console/?theme=trafficking",
        "priority": "/console/?priority=P2",
        "country": "/console/?country=DE",
        "channel": "/console/?channel=public",
        "network": f"/console/?network={network or 0}",
        "mine": "/console/?mine=1",
    }
    kinds = _item_kinds(rng, requests)
    for _ in range(WARM_UP):
        _timed(client, list(queue_paths.values()))
        _timed(client, [f"/console/items/{ids[0]}/" for ids in kinds.values() if ids])

    queue_times: dict[str, list[float]] = {name: [] for name in queue_paths}
    names = list(queue_paths)
    for n in range(requests):
        name = names[n % len(names)]
        queue_times[name] += _timed(client, [queue_paths[name]])
    item_times: dict[str, list[float]] = {name: [] for name in kinds if kinds[name]}
    order = [name for name in kinds if kinds[name]]
    for n in range(requests):
        name = order[n % len(order)]
        ids = kinds[name]
        item_times[name] += _timed(client, [f"/console/items/{ids[n // len(order) % len(ids)]}/"])

    queue_all = [t for ts in queue_times.values() for t in ts]
    item_all = [t for ts in item_times.values() for t in ts]
    return {
        "waiting": Item.objects.filter(needs_assessment=True).count(),
        "requests": requests,
        "queue_p50_ms": round(percentile(queue_all, 0.5), 1),
        "queue_p95_ms": round(percentile(queue_all, 0.95), 1),
        "item_p50_ms": round(percentile(item_all, 0.5), 1),
        "item_p95_ms": round(percentile(item_all, 0.95), 1),
        "queue_by_filter": {name: _figures(ts) for name, ts in queue_times.items() if ts},
        "item_by_kind": {name: _figures(ts) for name, ts in item_times.items() if ts},
        "require_2fa": False,
        "seed": seed,
    }
