"""`tipline demo generate`: synthetic ad networks with known ground truth, stored as a
provider's reports (the worker then processes them), or written to NDJSON files."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.intake import core, services
from tipline.intake.choices import Channel
from tipline.intake.models import Provider
from tipline.ops.demo import generate

PROVIDER = "Demo generator (synthetic data)"
CHUNK = 1_000


class Command(BaseCommand):
    help = "Generate synthetic reports with known networks (no real ads, fictional numbers)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="generate reports with ground truth")
        gen.add_argument("--reports", type=int, default=1_000)
        gen.add_argument("--seed", type=int, default=1)
        gen.add_argument(
            "--spread", type=float, default=0.1, help="share of the stream one network spans"
        )
        gen.add_argument(
            "--no-images", action="store_true", help="leave pictures out (faster, no PDQ links)"
        )
        gen.add_argument(
            "--out", type=Path, help="write NDJSON for POST /api/v1/reports/bulk instead of storing"
        )
        gen.add_argument(
            "--truth", type=Path, help="write the ground truth: external_id → network (JSON)"
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        reports, seed = options["reports"], options["seed"]
        if reports < 1:
            raise CommandError("--reports must be at least 1")
        with_media = not options["no_images"]
        truth: dict[str, int | None] = {}
        out = options["out"].open("w", encoding="utf-8") if options["out"] else None
        provider = None if out else _demo_provider()
        stored = repeats = 0
        chunk: list[tuple[int, core.ReportDraft]] = []

        def flush() -> None:
            nonlocal stored, repeats
            if not chunk:
                return
            outcomes = services.reports_receive(
                drafts=chunk, channel=Channel.PROVIDER, provider=provider
            )
            for o in outcomes:
                if isinstance(o, services.Received):
                    stored += o.created
                    repeats += not o.created
                else:
                    raise CommandError(f"a generated report was refused: {o}")
            chunk.clear()

        try:
            for r in generate(reports=reports, seed=seed, spread=options["spread"]):
                payload = r.payload(with_media=with_media)
                payload["external_id"] = f"demo-s{seed}-{r.index}"
                truth[str(payload["external_id"])] = r.network
                if out:
                    out.write(json.dumps(payload) + "\n")
                    continue
                chunk.append((r.index, core.parse_report(payload, max_media_bytes=1 << 24)))
                if len(chunk) >= CHUNK:
                    flush()
            flush()
        finally:
            if out:
                out.close()
        if options["truth"]:
            options["truth"].write_text(json.dumps(truth), encoding="utf-8")
        networks = {n for n in truth.values() if n is not None}
        summary = {
            "reports": reports,
            "seed": seed,
            "networks": len(networks),
            "in_networks": sum(n is not None for n in truth.values()),
        }
        if out:
            summary["written_to"] = str(options["out"])
        else:
            summary.update({"stored": stored, "already_there": repeats})
        self.stdout.write(json.dumps(summary))


def _demo_provider() -> Provider:
    provider = Provider.objects.filter(name=PROVIDER).first()
    if provider is None:
        provider, _token = services.provider_create(name=PROVIDER)
    return provider
