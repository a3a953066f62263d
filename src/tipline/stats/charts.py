"""Charts drawn on the server with matplotlib, from the same tables the CSV files hold:
SVG for pages, PNG or a PDF page for reports. Each chart is a `Figure` of its own (never
pyplot's global state, which is not safe across threads). Values are written on the bars
and series differ by marker, line style and hatching as well as by colour, so no chart
relies on colour alone."""

from __future__ import annotations

import io
import math
import re
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")
# Text stays text in the SVG (selectable, searchable, smaller), and the same table draws
# the same file byte for byte.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "tipline-stats"

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from . import core  # noqa: E402

# Okabe and Ito's palette, readable with every common colour-vision deficiency.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")
HATCHES = ("", "//", "..", "xx", "\\\\")
MARKERS = ("o", "s", "^", "D", "v")
LINES = ("-", "--", ":", "-.", "-")
WIDTH_IN = 8.0
LABEL_EVERY_MAX = 24  # points on a line chart beyond which values are not all written
LABEL_WRAP = 30  # characters of a bar's label per line


def _fmt(value: core.Cell, kind: str, lang: str, tr: core.Translator) -> str:
    return core.fmt_cell(value, kind, lang, tr)


def _number(value: core.Cell) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def draw(
    table: core.Table, *, lang: str = "en", tr: core.Translator = core.ENGLISH
) -> Figure | None:
    """The table's chart as a figure of its own, sized to its rows; None for a table
    without a chart."""
    if table.chart == "none" or not table.plotted:
        return None
    fig = Figure(figsize=(WIDTH_IN, height_in(table)), layout="constrained")
    draw_on(fig.add_subplot(), table, lang=lang, tr=tr)
    return fig


def height_in(table: core.Table) -> float:
    if table.chart == "lines":
        return 3.4
    per_row = 0.32 * len(table.plotted) + 0.2
    legend = 0.3 if len(table.plotted) > 1 else 0.0
    return max(1.6, 0.6 + legend + per_row * max(1, len(table.rows)))


def draw_on(
    ax: Axes, table: core.Table, *, lang: str = "en", tr: core.Translator = core.ENGLISH
) -> None:
    """Draw the table's chart on `ax` (a report page places it itself)."""
    if table.is_empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, tr.gettext("Nothing in this period"), ha="center", va="center")
    elif table.chart == "lines":
        _lines(ax, table, lang, tr)
    else:
        _bars(ax, table, lang, tr)


def _bars(ax: Axes, table: core.Table, lang: str, tr: core.Translator) -> None:
    """Horizontal bars, one group per row, one bar per plotted column, in table order
    from the top."""
    rows = table.rows
    series = table.plotted
    bar = 0.8 / len(series)
    largest = max((_number(r[c]) for r in rows for c in series), default=0.0) or 1.0
    for i, column in enumerate(series):
        kind = table.kinds[column]
        ys = [len(rows) - 1 - j + (len(series) - 1) / 2 * bar - i * bar for j in range(len(rows))]
        bars = ax.barh(
            ys,
            [_number(r[column]) for r in rows],
            height=bar * 0.9,
            color=COLOURS[i % len(COLOURS)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="#333333",
            linewidth=0.5,
            label=table.columns[column],
        )
        ax.bar_label(
            bars, labels=[_fmt(r[column], kind, lang, tr) for r in rows], padding=3, fontsize=8
        )
    ax.set_yticks(
        range(len(rows)),
        ["\n".join(textwrap.wrap(table.row_label(r), LABEL_WRAP)) for r in reversed(rows)],
        fontsize=8,
    )
    ax.set_xlim(0, largest * 1.3)
    ax.tick_params(axis="x", labelsize=8)
    kind = table.kinds[series[0]]
    if kind == "count":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    elif kind == "percent":
        ax.xaxis.set_major_formatter(lambda x, _pos: core.fmt_percent(x, lang))
    elif kind == "duration":
        ax.xaxis.set_major_locator(_DurationLocator())
        ax.xaxis.set_major_formatter(lambda x, _pos: core.fmt_duration(x, tr))
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        _legend(ax, len(series))


def _lines(ax: Axes, table: core.Table, lang: str, tr: core.Translator) -> None:
    """One line per plotted column over the rows (time buckets), each with its own marker
    and line style; values written when there are few points."""
    rows = table.rows
    xs = list(range(len(rows)))
    write_values = len(rows) <= LABEL_EVERY_MAX
    for i, column in enumerate(table.plotted):
        kind = table.kinds[column]
        values = [_number(r[column]) for r in rows]
        ax.plot(
            xs,
            values,
            color=COLOURS[i % len(COLOURS)],
            marker=MARKERS[i % len(MARKERS)],
            markersize=4 if write_values else 2,
            linestyle=LINES[i % len(LINES)],
            label=table.columns[column],
        )
        if write_values:
            for x, r, v in zip(xs, rows, values, strict=True):
                ax.annotate(
                    _fmt(r[column], kind, lang, tr),
                    (x, v),
                    textcoords="offset points",
                    xytext=(0, 5 if i == 0 else -11),
                    ha="center",
                    fontsize=7,
                )
    step = max(1, math.ceil(len(rows) / 12))
    ax.set_xticks(xs[::step], [table.row_label(r) for r in rows][::step], fontsize=7)
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(bottom=0)
    ax.margins(y=0.2)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    _legend(ax, len(table.plotted))


def _legend(ax: Axes, n: int) -> None:
    """Above the plot, in one row: never over a bar or a line."""
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=n, frameon=False)


class _DurationLocator(MaxNLocator):
    """Ticks on whole hours or days, so they read as round durations."""

    def tick_values(self, vmin: float, vmax: float) -> Any:
        unit = core.DAY_S if vmax >= 2 * core.DAY_S else 3600 if vmax >= 7200 else 60
        return [
            t * unit
            for t in MaxNLocator(nbins=6, integer=True).tick_values(vmin / unit, vmax / unit)
        ]


_STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>\s*\*\{([^}]*)\}\s*</style>")
_PROPERTY = re.compile(r"[a-z-]+")


def _attributes(declarations: str) -> str:
    """'fill: #fff; stroke-width: 0.8' as SVG presentation attributes."""
    out = []
    for declaration in declarations.split(";"):
        name, _colon, value = declaration.partition(":")
        name, value = name.strip(), value.strip().replace('"', "&quot;")
        if _PROPERTY.fullmatch(name) and value:
            out.append(f'{name}="{value}"')
    return " ".join(out)


def presentation_attributes(text: str) -> str:
    """matplotlib's SVG with its CSS (style attributes, a <style> element) written as
    presentation attributes: the pages' Content-Security-Policy allows no inline style,
    and attributes are not styles. Every property matplotlib writes (fill, stroke…,
    font-size, font-family, text-anchor) has its attribute."""
    inherited = ""
    found = _STYLE_ELEMENT.search(text)
    if found:
        inherited = _attributes(found.group(1))
        text = text[: found.start()] + text[found.end() :]
    text = _STYLE_ATTRIBUTE.sub(lambda m: _attributes(m.group(1)), text)
    if inherited:
        text = text.replace("<svg ", f"<svg {inherited} ", 1)
    return text


def svg(fig: Figure, *, title: str = "") -> str:
    """The figure as an SVG element to put in a page (no XML prologue, no inline CSS),
    titled for screen readers."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = presentation_attributes(text[text.index("<svg") :])
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    if title:
        safe = title.replace("&", "&amp;").replace("<", "&lt;")
        text = re.sub(
            r"(<svg[^>]*>)", lambda m: f"{m.group(1)}<title>{safe}</title>", text, count=1
        )
        text = text.replace("<svg ", '<svg role="img" ', 1)
    return text


def png(fig: Figure, *, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
