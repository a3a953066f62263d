"""`tipline bench <what>`: measure one part of Tipline on a fresh database, print JSON."""

from __future__ import annotations

import json
import platform
import random
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client

from tipline.intake import services
from tipline.intake.models import Report

CITIES = ["Lyon", "Lille", "Nantes", "Metz", "Brest", "Dijon", "Rouen", "Nice"]
WORDS = ["new", "in", "town", "sweet", "discreet", "available", "call", "now", "young", "hotel"]


def synthetic_report(n: int, rng: random.Random) -> dict[str, Any]:
    """A generated ad-like report: fictional site, fiction-range phone number."""
    phone = f"01 99 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"
    text = " ".join(rng.choice(WORDS) for _ in range(25))
    return {
        "external_id": f"bench-{n}",
        "category": rng.choice(["sex ad", "trafficking", "csam", "fraud"]),
        "urls": [f"https://ads{rng.randrange(50)}.example/{rng.choice(CITIES).lower()}/{n}"],
        "description": "generated for a benchmark",
        "excerpt": f"{text} {phone}",
        "reporter": {"country": rng.choice(["FR", "BE", "DE", "ES"])},
    }


class Command(BaseCommand):
    help = "Benchmarks on a fresh temporary database; each prints one JSON object."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        intake = sub.add_parser("intake", help="bulk API intake, durably stored")
        intake.add_argument("--reports", type=int, default=20_000)
        intake.add_argument("--batch", type=int, default=10_000, help="reports per bulk body")
        intake.add_argument("--seed", type=int, default=1)
        intake.add_argument("--json", action="store_true", help="print JSON (the default)")

    def handle(self, *args: Any, what: str, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        result = getattr(self, f"bench_{what}")(**options)
        result.update(
            {
                "benchmark": what,
                "database": connection.vendor,
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {_cpu_count()} cpu",
            }
        )
        self.stdout.write(json.dumps(result))

    def bench_intake(self, *, reports: int, batch: int, seed: int, **_: Any) -> dict[str, Any]:
        batch = min(batch, settings.INTAKE_MAX_BULK_REPORTS)
        rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
        _provider, token = services.provider_create(name="Benchmark Platform")
        bodies = []
        for start in range(0, reports, batch):
            entries = [synthetic_report(n, rng) for n in range(start, min(reports, start + batch))]
            bodies.append(json.dumps(entries).encode())
        client = Client(headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        for body in bodies:
            response = client.post(
                "/api/v1/reports/bulk", body, content_type="application/json", HTTP_HOST="127.0.0.1"
            )
            if response.status_code != 202 or response.json()["rejected"]:
                raise RuntimeError(f"bulk intake refused: {response.content[:500]!r}")
        seconds = time.perf_counter() - started
        stored = Report.objects.count()
        if stored != reports:
            raise RuntimeError(f"{stored} reports stored, expected {reports}")
        return {
            "reports": reports,
            "batch": batch,
            "seconds": round(seconds, 3),
            "reports_per_s": round(reports / seconds, 1),
        }


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
