"""`tipline stats report|opendata|refresh`: the annual report, the public open-data
export of a year's aggregates, and bringing the daily summaries up to date."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.stats import report, services


class Command(BaseCommand):
    help = (
        "Statistics: `report --year Y [--format html|pdf|csv] [--lang en|fr] [--out FILE]` "
        "writes the annual report; `opendata --year Y [--format json|csv]` the public "
        "aggregates (no personal data, no URL); `refresh [--full]` brings the summaries up "
        "to date (report and opendata do it first unless --no-refresh)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        rep = sub.add_parser("report", help="the annual report")
        rep.add_argument("--year", type=int, required=True)
        rep.add_argument("--format", choices=list(report.FORMATS), default="html")
        rep.add_argument("--lang", choices=list(report.LANGUAGES), default="en")
        rep.add_argument("--out", type=Path, help="the file to write (default: standard output)")
        rep.add_argument("--no-refresh", action="store_true", help="use the summaries as they are")
        data = sub.add_parser("opendata", help="the year's aggregates for the public")
        data.add_argument("--year", type=int, required=True)
        data.add_argument("--format", choices=["json", "csv"], default="json")
        data.add_argument(
            "--suppress-below",
            type=int,
            default=report.SUPPRESS_BELOW,
            help="publish counts from 1 to this minus one as null (0: publish every count)",
        )
        data.add_argument("--out", type=Path, help="the file to write (default: standard output)")
        data.add_argument("--no-refresh", action="store_true", help="use the summaries as they are")
        refresh = sub.add_parser("refresh", help="bring the daily summaries up to date")
        refresh.add_argument("--full", action="store_true", help="recompute every day")

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what == "refresh":
            done = services.summaries_refresh(full=options["full"])
            if done is None:
                raise CommandError("a refresh is running already; try again when it is done")
            self.stdout.write(
                json.dumps(
                    {
                        "as_of": done.as_of.isoformat(),
                        "full": done.full,
                        "days": done.days,
                        "took_s": round(done.took_s, 3),
                    }
                )
            )
            return
        if not 1970 <= options["year"] <= 9998:
            raise CommandError("--year: a year such as 2026")
        if not options["no_refresh"]:
            services.summaries_refresh()
        if what == "report":
            content, _type = report.render(
                year=options["year"], fmt=options["format"], lang=options["lang"]
            )
        else:
            aggregates = report.open_data(
                options["year"], suppress_below=max(0, options["suppress_below"])
            )
            text = (
                report.open_data_json(aggregates)
                if options["format"] == "json"
                else report.open_data_csv(aggregates)
            )
            content = text.encode()
        if options["out"] is not None:
            options["out"].write_bytes(content)
            self.stderr.write(f"wrote {options['out']} ({len(content)} bytes)")
        elif options["format"] == "pdf":
            sys.stdout.buffer.write(content)
        else:
            self.stdout.write(content.decode(), ending="")
