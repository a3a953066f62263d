"""`tipline bench <what>`: measure one part of Tipline on a fresh database, print JSON."""

from __future__ import annotations

import base64
import io
import json
import os
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
from PIL import Image, ImageDraw

from tipline.analyze import pdq_bench
from tipline.common import pipeline
from tipline.harmonize.models import Item, MediaFile
from tipline.intake import core, services
from tipline.intake.choices import Channel
from tipline.intake.models import Report
from tipline.ops import api_bench, console_bench, crossref_bench, pipeline_bench, scale
from tipline.ops.synthetic import synthetic_report
from tipline.stats import selectors as stats_selectors
from tipline.stats import services as stats_services


class Command(BaseCommand):
    help = "Benchmarks on a fresh temporary database; each prints one JSON object."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        intake = sub.add_parser("intake", help="bulk API intake, durably stored")
        intake.add_argument("--reports", type=int, default=20_000)
        intake.add_argument("--batch", type=int, default=10_000, help="reports per bulk body")
        intake.add_argument("--seed", type=int, default=1)
        intake.add_argument("--json", action="store_true", help="print JSON (the default)")
        harmonize = sub.add_parser("harmonize", help="the harmonize stage alone")
        harmonize.add_argument("--reports", type=int, default=50_000)
        harmonize.add_argument(
            "--pages", type=int, default=20_000, help="distinct pages the reports point at"
        )
        harmonize.add_argument(
            "--media-share",
            type=float,
            default=0.05,
            help="share of reports carrying an image (200 distinct images)",
        )
        harmonize.add_argument("--seed", type=int, default=1)
        harmonize.add_argument("--json", action="store_true", help="print JSON (the default)")
        flow = sub.add_parser("pipeline", help="bulk intake through every stage to oriented")
        flow.add_argument("--reports", type=int, default=20_000)
        flow.add_argument("--media-share", type=float, default=0.05)
        flow.add_argument("--seed", type=int, default=1)
        flow.add_argument(
            "--workers",
            type=int,
            default=0,
            help="`tipline worker` processes running beside the intake (0: one worker in this "
            "process, started once every report is in)",
        )
        flow.add_argument(
            "--rate",
            type=float,
            default=0.0,
            help="feed the reports at this many per second, in bulk bodies of a tenth of a "
            "second (0: all at once); needs --workers",
        )
        flow.add_argument("--json", action="store_true", help="print JSON (the default)")
        xref = sub.add_parser("crossref", help="the cross-reference stage on generated networks")
        xref.add_argument("--items", type=int, default=100_000, help="reported ad pages")
        xref.add_argument("--batch", type=int, default=500, help="reports per stage batch")
        xref.add_argument("--seed", type=int, default=1)
        xref.add_argument(
            "--spread",
            type=float,
            default=0.1,
            help="share of the stream over which one network's ads arrive (1: all of it)",
        )
        xref.add_argument("--json", action="store_true", help="print JSON (the default)")
        console = sub.add_parser(
            "console", help="the console's queue and item pages over a year of generated work"
        )
        console.add_argument("--items", type=int, default=100_000)
        console.add_argument("--seed", type=int, default=1)
        console.add_argument(
            "--requests", type=int, default=200, help="timed requests of each page kind"
        )
        console.add_argument(
            "--waiting-share", type=float, default=0.05, help="share of items in the queue"
        )
        console.add_argument("--json", action="store_true", help="print JSON (the default)")
        stats = sub.add_parser(
            "stats", help="every dashboard figure for one year of generated work"
        )
        stats.add_argument("--items", type=int, default=100_000)
        stats.add_argument("--seed", type=int, default=1)
        stats.add_argument("--year", type=int, default=2025)
        stats.add_argument("--repeat", type=int, default=5, help="timed dashboard computations")
        stats.add_argument("--json", action="store_true", help="print JSON (the default)")
        pdq = sub.add_parser("pdq", help="the PDQ index against a brute-force scan, in memory")
        pdq.add_argument("--bank", type=int, default=1_000_000)
        pdq.add_argument("--queries", type=int, default=1000)
        pdq.add_argument("--seed", type=int, default=1)
        pdq.add_argument("--json", action="store_true", help="print JSON (the default)")
        load = sub.add_parser(
            "api", help="single reports POSTed to a running server at a fixed rate (open loop)"
        )
        load.add_argument("--rate", type=float, default=100.0, help="requests per second")
        load.add_argument("--seconds", type=float, default=30.0)
        load.add_argument("--url", help="a running server (default: start `tipline serve` here)")
        load.add_argument("--token", help="a provider token of the server given by --url")
        load.add_argument(
            "--workers", type=int, default=1, help="pipeline workers of the server started here"
        )
        load.add_argument("--max-in-flight", type=int, default=64)
        load.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
        load.add_argument(
            "--deadline", type=float, default=10.0, help="seconds after --seconds to stop anyway"
        )
        load.add_argument(
            "--give-up-after", type=int, default=50, help="stop after this many failures in a row"
        )
        load.add_argument(
            "--drain", type=float, default=60.0, help="seconds to wait for the workers after"
        )
        load.add_argument("--seed", type=int, default=1)
        load.add_argument("--json", action="store_true", help="print JSON (the default)")

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

    def bench_pipeline(
        self, *, reports: int, media_share: float, seed: int, workers: int, rate: float, **_: Any
    ) -> dict[str, Any]:
        """Reports posted to the bulk API and run through every stage to oriented
        (`tipline.ops.pipeline_bench`). Captures and hosting lookups (their own queue,
        waiting on the internet) are not part of it."""
        settings.ANALYZE_NETWORK = False
        rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
        images = [base64.b64encode(synthetic_image(n)).decode() for n in range(200)]
        entries = []
        for n in range(reports):
            entry = synthetic_report(n, rng)
            if rng.random() < media_share:
                entry["media"] = [{"filename": "ad.jpg", "content_base64": rng.choice(images)}]
            entries.append(entry)
        _provider, token = services.provider_create(name="Benchmark Platform")
        client = Client(headers={"Authorization": f"Bearer {token}"})
        result = pipeline_bench.run(client=client, entries=entries, workers=workers, rate=rate)
        result["media_share"] = media_share
        return result

    def bench_crossref(
        self, *, items: int, batch: int, seed: int, spread: float, **_: Any
    ) -> dict[str, Any]:
        """Generated reports written as Analyze leaves them (not timed), then only the
        cross-reference stage, timed, scored against the generator's ground truth."""
        return crossref_bench.run(items=items, seed=seed, batch=batch, spread=spread)

    def bench_console(
        self, *, items: int, seed: int, requests: int, waiting_share: float, **_: Any
    ) -> dict[str, Any]:
        """A year of generated work (`tipline.ops.scale.fill`, not timed), then server-side
        GETs of the queue (each filter) and of item pages, timed around the test client."""
        return console_bench.run(
            items=items, seed=seed, requests=requests, waiting_share=waiting_share
        )

    def bench_stats(
        self, *, items: int, seed: int, year: int, repeat: int, **_: Any
    ) -> dict[str, Any]:
        """A year of generated work (`tipline.ops.scale.fill`, not timed); the summary
        tables built from it from empty (`refresh_s`, what the workers' refresh does once);
        then every dashboard figure for the year, computed afresh from the summaries each
        time with nothing cached (`dashboard_s`, the median of `repeat`)."""
        filled = scale.fill(items=items, seed=seed, year=year)
        started = time.perf_counter()
        stats_services.summaries_refresh(full=True)
        refresh_s = time.perf_counter() - started
        times = []
        for _run in range(max(1, repeat)):
            started = time.perf_counter()
            figures = stats_selectors.dashboard(year=year)
            times.append(time.perf_counter() - started)
        if not figures:
            raise RuntimeError("the dashboard computed nothing")
        times.sort()
        return {
            "items": items,
            "year": year,
            "fill_s": round(float(filled.get("seconds", 0.0)), 1),
            "refresh_s": round(refresh_s, 2),
            "dashboard_s": round(times[len(times) // 2], 3),
            "dashboard_max_s": round(times[-1], 3),
            "repeat": len(times),
        }

    def bench_api(self, **options: Any) -> dict[str, Any]:
        """An open-loop load over loopback (`tipline.ops.api_bench`): latency from when each
        request was due, and whether the pipeline workers kept up."""
        names = ["rate", "seconds", "url", "token", "max_in_flight", "timeout", "deadline"]
        names += ["give_up_after", "drain", "seed", "workers"]
        return api_bench.run(**{name: options[name] for name in names})

    def bench_pdq(self, *, bank: int, queries: int, seed: int, **_: Any) -> dict[str, Any]:
        """Bank and queries generated in memory; the database is not involved."""
        return pdq_bench.run(bank, queries, seed=seed)

    def bench_harmonize(
        self, *, reports: int, pages: int, media_share: float, seed: int, **_: Any
    ) -> dict[str, Any]:
        """Reports received beforehand (not timed), then only the harmonize stage, timed,
        in the pipeline's own batches."""
        rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
        images = [synthetic_image(n) for n in range(200)]
        drafts = []
        for n in range(reports):
            entry = synthetic_report(n, rng)
            entry["urls"] = [f"https://ads{n % 50}.example/p/{rng.randrange(pages)}?utm_source=x"]
            media = []
            if rng.random() < media_share:
                media = [core.check_image(rng.choice(images), "ad.jpg", max_bytes=1 << 24)]
            drafts.append((n, core.parse_report(entry, max_media_bytes=0, extra_media=media)))
        for start in range(0, reports, 10_000):
            services.reports_receive(
                drafts=drafts[start : start + 10_000], channel=Channel.PROVIDER
            )
        ids = list(Report.objects.order_by("id").values_list("id", flat=True))
        stage = pipeline.STAGES[0]
        chunk = settings.PIPELINE_CHUNK
        started = time.perf_counter()
        for start in range(0, len(ids), chunk):
            failed = services.reports_run_stage(
                stage=stage, report_ids=ids[start : start + chunk], worker_id="bench"
            )
            if failed:
                raise RuntimeError(f"harmonize failed for reports {sorted(failed)[:5]}")
        seconds = time.perf_counter() - started
        return {
            "reports": reports,
            "seconds": round(seconds, 3),
            "reports_per_s": round(reports / seconds, 1),
            "items": Item.objects.count(),
            "media_files": MediaFile.objects.count(),
            "batch": chunk,
        }


def synthetic_image(n: int) -> bytes:
    """A generated picture (stripes and a disc), different for each n."""
    rng = random.Random(n)  # noqa: S311 - synthetic data
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, rng.randrange(12, 40)):
        draw.line((x, 0, 640 - x, 480), fill=tuple(rng.randrange(256) for _ in range(3)), width=5)
    draw.ellipse((200, 120, 440, 360), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
