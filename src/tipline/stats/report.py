"""The annual report — every figure of the dashboard for a year, with its chart, its table
and short commentary made of the numbers — as HTML, PDF (matplotlib's PdfPages: a text
page, then a page per figure) or CSV; and the public open-data export of the year's
aggregates (codes, counts and durations only: no personal data, no URL, no host)."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import charts, core, selectors, tables
from .tables import TR

LANGUAGES = ("en", "fr")
FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
A4_IN = (8.27, 11.69)
ROWS_PER_PAGE = 38
# Open data: counts from 1 to this minus one are published as null (see docs/statistics.md).
SUPPRESS_BELOW = 5


@dataclass(frozen=True)
class Annual:
    year: int
    lang: str
    dashboard: selectors.Dashboard
    tables: dict[str, core.Table]
    commentary: list[str]


def annual(year: int, lang: str) -> Annual:
    """The year's figures, tables and commentary, with texts in `lang`."""
    with translation.override(lang):
        d = selectors.dashboard(year=year, unit="month")
        return Annual(
            year=year,
            lang=lang,
            dashboard=d,
            tables=tables.build(d),
            commentary=core.commentary(selectors.summary(d), lang=lang, tr=TR),
        )


def filename(year: int, fmt: str, lang: str) -> str:
    return f"tipline-report-{year}-{lang}.{fmt}"


def render(*, year: int, fmt: str, lang: str, nonce: str | None = None) -> tuple[bytes, str]:
    """The report as bytes, and its content type; `nonce` marks the HTML's inline style
    for a page's Content-Security-Policy."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    a = annual(year, lang)
    if fmt == "html":
        content = html(a, nonce=nonce).encode()
    elif fmt == "pdf":
        content = pdf(a)
    else:
        content = csv_long(a).encode()
    return content, FORMATS[fmt]


def _as_of(a: Annual) -> str:
    as_of = a.dashboard.as_of
    if as_of is None:
        return _("never computed")
    return timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")


def html(a: Annual, *, nonce: str | None = None) -> str:
    """One HTML file, styles and charts inside: it reads the same saved or served."""
    with translation.override(a.lang):
        return render_to_string(
            "stats/report.html",
            {
                "year": a.year,
                "lang": a.lang,
                "as_of": _as_of(a),
                "time_zone": settings.TIME_ZONE,
                "commentary": a.commentary,
                "figures": [tables.shown(t, a.lang) for t in a.tables.values()],
                "nonce": nonce,
            },
        )


def _page(title: str) -> Figure:
    fig = Figure(figsize=A4_IN)
    fig.text(0.07, 0.955, title, fontsize=14, fontweight="bold", va="top")
    return fig


def _table_on(
    fig: Figure,
    table: core.Table,
    rows: list[tuple[core.Cell, ...]],
    lang: str,
    top: float,
    bottom: float,
) -> None:
    ax = fig.add_axes((0.07, bottom, 0.86, top - bottom))
    ax.set_axis_off()
    if not rows:
        return
    cells = [
        [core.fmt_cell(v, k, lang, TR) for v, k in zip(row, table.kinds, strict=True)]
        for row in rows
    ]
    columns = ["\n".join(textwrap.wrap(c, 16)) or c for c in table.columns]
    # Each column as wide as its longest cell (within bounds), headers wrapped.
    widths = [
        min(45, max(8, len(c) if len(c) < 16 else 16, *(len(row[i]) for row in cells)))
        for i, c in enumerate(table.columns)
    ]
    total = sum(widths)
    t = ax.table(
        cellText=cells,
        colLabels=columns,
        colWidths=[w / total for w in widths],
        loc="upper center",
        cellLoc="left",
    )
    t.auto_set_font_size(False)
    t.set_fontsize(7 if len(table.columns) > 4 else 8)
    t.scale(1, 1.25)
    for (r, c), cell in t.get_celld().items():
        cell.set_linewidth(0.3)
        if r == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_height(cell.get_height() * (1 + max(c.count("\n") for c in columns)))
        if c > 0 and table.kinds[c] not in ("label", "text"):
            cell.set_text_props(ha="right")


def _chunks(
    rows: tuple[tuple[core.Cell, ...], ...], size: int
) -> Iterator[list[tuple[core.Cell, ...]]]:
    for i in range(0, max(len(rows), 1), size):
        yield list(rows[i : i + size])


def pdf(a: Annual) -> bytes:
    """A first page with the commentary and key figures, then a page per figure: its
    chart, its table (continued on further pages when long) and its note."""
    buffer = io.BytesIO()
    with translation.override(a.lang):
        title = _("Tipline — annual report %(year)s") % {"year": a.year}
        metadata = {"Title": title, "Creator": "Tipline", "CreationDate": None}
        with PdfPages(buffer, metadata=metadata) as pdf_pages:
            for page in pages(a):
                pdf_pages.savefig(page)
    return buffer.getvalue()


def pages(a: Annual) -> Iterator[Figure]:
    """The report's pages, A4 portrait."""
    with translation.override(a.lang):
        title = _("Tipline — annual report %(year)s") % {"year": a.year}
        fig = _page(title)
        fig.text(
            0.07,
            0.92,
            _("Figures as of %(as_of)s; days in the %(zone)s time zone.")
            % {"as_of": _as_of(a), "zone": settings.TIME_ZONE},
            fontsize=8,
            va="top",
        )
        y = 0.89
        for sentence in a.commentary:
            lines = textwrap.wrap(sentence, 105)
            fig.text(0.07, y, "• " + "\n   ".join(lines), fontsize=8.5, va="top", linespacing=1.4)
            y -= 0.016 * len(lines) + 0.007
        summary = a.tables["summary"]
        fig.text(0.07, y - 0.01, summary.title, fontsize=11, fontweight="bold", va="top")
        _table_on(fig, summary, list(summary.rows), a.lang, y - 0.035, 0.03)
        yield fig
        for table in a.tables.values():
            if table.key == "summary":
                continue
            for part, rows in enumerate(_chunks(table.rows, ROWS_PER_PAGE)):
                fig = _page(table.title + (f" ({part + 1})" if part else ""))
                top = 0.93
                if part == 0 and table.chart != "none":
                    height = min(0.42, charts.height_in(table) / A4_IN[1])
                    bars = table.chart == "bars"
                    ax = fig.add_axes(
                        (0.33 if bars else 0.1, top - height, 0.6 if bars else 0.85, height - 0.03)
                    )
                    charts.draw_on(ax, table, lang=a.lang, tr=TR)
                    top -= height + 0.05
                if table.note and part == 0:
                    fig.text(
                        0.07,
                        0.03,
                        "\n".join(textwrap.wrap(table.note, 120)),
                        fontsize=7,
                        va="bottom",
                    )
                _table_on(fig, table, rows, a.lang, top, 0.08)
                yield fig


def csv_long(a: Annual) -> str:
    """Every table in one CSV, one value a line: figure, row, column, value (durations in
    seconds, shares as fractions)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with translation.override(a.lang):
        writer.writerow([_("Figure"), _("Row"), _("Column"), _("Value")])
    for table in a.tables.values():
        for row in table.rows:
            name = " · ".join(
                str(v) for v, k in zip(row, table.kinds, strict=True) if k in ("label", "text")
            )
            for column, kind, value in zip(table.columns, table.kinds, row, strict=True):
                if kind in ("label", "text"):
                    continue
                header = f"{column} (s)" if kind == "duration" else column
                writer.writerow([table.title, name, header, core.csv_cell(value)])
    return buffer.getvalue()


# --- Open data -----------------------------------------------------------------------------


def _suppressed(n: int, below: int) -> int | None:
    return None if 0 < n < below else n


def open_data(year: int, *, suppress_below: int = SUPPRESS_BELOW) -> dict[str, Any]:
    """The year's aggregates for the public: codes (channels, themes, classifications,
    ISO countries, destination kinds, states), counts and durations — never a report, a
    person, a URL, a host or a provider's name. A count from 1 to `suppress_below` - 1 is
    published as null; so are the quantiles and shares of a clock with fewer stopped (or
    started) than that."""
    d = selectors.dashboard(year=year, unit="month")
    below = suppress_below

    def counts(values: dict[str, int]) -> dict[str, int | None]:
        return {k or "unknown": _suppressed(n, below) for k, n in sorted(values.items())}

    def clock(dist: core.Distribution) -> dict[str, Any]:
        enough_done = dist.done >= below
        enough_started = dist.started >= below
        return {
            "started": _suppressed(dist.started, below),
            "stopped": _suppressed(dist.done, below),
            "median_s": dist.median_s if enough_done else None,
            "p90_s": dist.p90_s if enough_done else None,
            **{
                f"share_within_{name}": round(share, 4)
                if enough_started and (share := dist.share_within(name)) is not None
                else None
                for name, _limit in core.LIMITS
            },
        }

    v, a = d.volumes, d.assessment
    return {
        "dataset": "tipline-annual-statistics",
        "year": year,
        "as_of": d.as_of.isoformat() if d.as_of else None,
        "time_zone": settings.TIME_ZONE,
        "suppressed_below": below,
        "definitions": "docs/statistics.md",
        "reports": {
            "total": v.reports,
            "by_channel": counts(v.reports_by_channel),
            "by_theme": counts({k or "not_harmonized": n for k, n in v.reports_by_theme.items()}),
            "by_month": {b.label: _suppressed(n, below) for b, n, _items in v.series},
        },
        "items": {
            "total": v.items,
            "by_kind": counts(v.items_by_kind),
            "by_theme": counts(v.items_by_theme),
            "by_month": {b.label: _suppressed(n, below) for b, _reports, n in v.series},
        },
        "assessments": {
            "assessed": a.assessed,
            "illegal": a.illegal,
            "by_classification": counts(a.by_classification),
            "known_content_matched": _suppressed(a.known_matched, below),
            "known_content_without_analyst": _suppressed(a.known_auto, below),
        },
        "hosting_countries": {
            (c or "unknown"): {
                "pages": _suppressed(n, below),
                "assessed_illegal": _suppressed(illegal, below),
            }
            for c, n, illegal in d.hosting.rows
        },
        "networks": {
            "found": _suppressed(d.networks.networks, below),
            "items": _suppressed(d.networks.items, below),
        },
        "dispatches": {
            f"{kind}:{state}": _suppressed(n, below)
            for (kind, state), n in sorted(d.dispatches.by_outcome.items())
        },
        "notices": {
            "first": _suppressed(d.dispatches.notices_first, below),
            "repeated": _suppressed(d.dispatches.notices_repeat, below),
        },
        "time_to_assess": clock(d.timings.assess),
        "time_to_forward": clock(d.timings.forward),
        "time_to_removal": clock(d.timings.removal),
        "sla": {
            r.priority: {
                "deadline_s": r.limit_s,
                "items": _suppressed(r.items, below),
                "assessed_late": _suppressed(r.late, below),
                "waiting_past_deadline": _suppressed(r.waiting, below),
            }
            for r in d.sla
        },
    }


def open_data_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def open_data_csv(data: dict[str, Any]) -> str:
    """The same, flattened: one line per value, `figure,key,value` (null as empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["year", "figure", "key", "value"])

    def walk(prefix: str, value: Any) -> Iterator[tuple[str, str, Any]]:
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict):
                    yield from walk(f"{prefix}.{k}" if prefix else k, v)
                else:
                    yield prefix, k, v

    for figure, key, value in walk("", {k: v for k, v in data.items() if isinstance(v, dict)}):
        writer.writerow([data["year"], figure, key, "" if value is None else value])
    return buffer.getvalue()
